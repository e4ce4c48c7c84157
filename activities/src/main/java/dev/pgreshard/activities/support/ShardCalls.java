package dev.pgreshard.activities.support;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One call per shard, all at once, for the round trips a traffic switch makes to several servers while
 * clients are paused (markers on every read shard, sequence states and values, reverse slots). Own
 * threads, not the common fork-join pool: on a 2-core machine its parallelism is 1, which ran such
 * "parallel" calls one after the other.
 */
public final class ShardCalls {
    private static final AtomicInteger COUNT = new AtomicInteger();
    private static final ExecutorService THREADS = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "pgreshard-switch-" + COUNT.incrementAndGet());
        t.setDaemon(true);
        return t;
    });

    private ShardCalls() {
    }

    /** One call per shard. */
    public interface ShardCall<T> {
        T call(int shard) throws Exception;
    }

    /** Starts {@code call} for shards 0..n-1, each on its own thread; the future holds the results in shard order. */
    public static <T> CompletableFuture<List<T>> start(int n, ShardCall<T> call) {
        List<CompletableFuture<T>> calls = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            int shard = i;
            calls.add(CompletableFuture.supplyAsync(() -> {
                try {
                    return call.call(shard);
                } catch (Exception e) {
                    throw new CompletionException(e);
                }
            }, THREADS));
        }
        return CompletableFuture.allOf(calls.toArray(CompletableFuture[]::new))
                .thenApply(done -> calls.stream().map(CompletableFuture::join).toList());
    }

    /**
     * {@link #start} and waits: one shard runs on the caller's thread (no hop for a single shard). The
     * first failure is thrown as it was (an SQLException stays one).
     */
    public static <T> List<T> onEach(int n, ShardCall<T> call) throws java.sql.SQLException {
        try {
            if (n == 1) {
                return java.util.Collections.singletonList(call.call(0)); // a call may answer null
            }
            return start(n, call).join();
        } catch (CompletionException e) {
            throw rethrown(e.getCause());
        } catch (java.sql.SQLException | RuntimeException e) {
            throw e;
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private static java.sql.SQLException rethrown(Throwable cause) {
        if (cause instanceof java.sql.SQLException se) {
            return se;
        }
        if (cause instanceof RuntimeException re) {
            throw re;
        }
        return new java.sql.SQLException(String.valueOf(cause.getMessage()), cause);
    }
}
