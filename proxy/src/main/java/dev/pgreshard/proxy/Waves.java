package dev.pgreshard.proxy;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

/**
 * Runs asynchronous work over many items a few at a time: the next item starts when one in progress ends
 * (a sliding window, not batches). Used by the warm switch, whose sessions each open connections to
 * every shard of the new cluster.
 */
final class Waves {
    private Waves() {
    }

    /** How many at once so that {@code items} take at most {@code waves} waves, and never fewer than {@code min} at once. */
    static int atOnce(int items, int waves, int min) {
        return Math.max(min, (items + waves - 1) / waves);
    }

    /**
     * The work under way: one future per item, in order, completing as its work does; {@link #stop} keeps
     * the items not started yet from starting (their futures fail with a CancellationException).
     */
    record Started<R>(List<CompletableFuture<R>> results, AtomicBoolean stopped) {
        void stop() {
            stopped.set(true);
            for (CompletableFuture<R> r : results) {
                r.cancel(false); // only those not settled yet; one whose work already runs settles nothing more
            }
        }
    }

    /**
     * Starts {@code work} for the first {@code atOnce} items, and for each further item as soon as one
     * ends (with a value or an error), until {@link Started#stop}.
     */
    static <T, R> Started<R> start(List<T> items, int atOnce, Function<T, CompletableFuture<R>> work) {
        List<CompletableFuture<R>> results = new ArrayList<>(items.size());
        for (int i = 0; i < items.size(); i++) {
            results.add(new CompletableFuture<>());
        }
        AtomicBoolean stopped = new AtomicBoolean();
        AtomicInteger next = new AtomicInteger();
        Runnable startNext = new Runnable() {
            @Override
            public void run() {
                // work done at once is settled in this loop rather than by recursion (a long list stays shallow)
                for (int i = next.getAndIncrement(); i < items.size() && !stopped.get(); i = next.getAndIncrement()) {
                    CompletableFuture<R> started;
                    try {
                        started = work.apply(items.get(i));
                    } catch (RuntimeException e) {
                        started = CompletableFuture.failedFuture(e);
                    }
                    CompletableFuture<R> result = results.get(i);
                    if (!started.isDone()) {
                        started.whenComplete((value, error) -> {
                            settle(result, value, error);
                            run();
                        });
                        return;
                    }
                    started.whenComplete((value, error) -> settle(result, value, error));
                }
            }
        };
        for (int k = 0; k < Math.min(Math.max(1, atOnce), items.size()); k++) {
            startNext.run();
        }
        return new Started<>(results, stopped);
    }

    private static <R> void settle(CompletableFuture<R> result, R value, Throwable error) {
        if (error != null) {
            result.completeExceptionally(error instanceof java.util.concurrent.CompletionException c && c.getCause() != null
                    ? c.getCause() : error);
        } else {
            result.complete(value);
        }
    }
}
