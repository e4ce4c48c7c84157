package dev.pgreshard.proxy.twophase;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * Group commit of commit decisions: one thread takes every decision waiting and records them with one
 * {@link DecisionLog#decideAll} (one control-store transaction), so concurrent two-phase commits share
 * one durable write and one thread wake-up instead of paying one each. A decision that arrives while a
 * write is under way waits for the next one — which starts at once when that returns.
 */
final class GroupCommit implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(GroupCommit.class);
    private static final int MAX_BATCH = 500;

    /** What a waiting commit is told, on the group-commit thread: the stored decision, or why there is none. */
    interface Callback {
        void decided(DecisionLog.Outcome stored);

        void failed(RuntimeException e);
    }

    private record Waiting(DecisionLog.Request request, Callback callback) {
    }

    private final Supplier<DecisionLog> log;
    private final LinkedBlockingQueue<Waiting> queue = new LinkedBlockingQueue<>();
    private final Thread thread;
    private volatile boolean closed;

    GroupCommit(Supplier<DecisionLog> log) {
        this.log = log;
        this.thread = new Thread(this::run, "pgreshard-2pc-decisions");
        thread.setDaemon(true);
        thread.start();
    }

    void submit(DecisionLog.Request request, Callback callback) {
        Waiting w = new Waiting(request, callback);
        queue.add(w);
        if (closed && queue.remove(w)) { // the thread may have ended: nobody else will answer it
            callback.failed(new IllegalStateException("the proxy is shutting down"));
        }
    }

    private void run() {
        List<Waiting> batch = new ArrayList<>();
        while (!closed || !queue.isEmpty()) {
            try {
                Waiting first = queue.poll(200, TimeUnit.MILLISECONDS);
                if (first == null) {
                    continue;
                }
                batch.add(first);
                queue.drainTo(batch, MAX_BATCH - 1);
                record(batch);
            } catch (InterruptedException e) {
                closed = true;
            } finally {
                batch.clear();
            }
        }
    }

    private void record(List<Waiting> batch) {
        Map<String, DecisionLog.Outcome> stored;
        try {
            stored = log.get().decideAll(batch.stream().map(Waiting::request).toList());
        } catch (RuntimeException e) {
            batch.forEach(w -> answer(w, null, e));
            return;
        }
        for (Waiting w : batch) {
            DecisionLog.Outcome outcome = stored.get(w.request().gid());
            answer(w, outcome, outcome != null ? null
                    : new IllegalStateException("the decision log returned no decision for " + w.request().gid()));
        }
    }

    /** Tells one commit; a callback that throws (its event loop shut down) does not keep the others untold. */
    private static void answer(Waiting w, DecisionLog.Outcome outcome, RuntimeException failure) {
        try {
            if (failure != null) {
                w.callback().failed(failure);
            } else {
                w.callback().decided(outcome);
            }
        } catch (RuntimeException e) {
            LOG.error("2PC group commit: the commit of {} could not be told its decision", w.request().gid(), e);
        }
    }

    /** Records what is waiting, then stops. */
    @Override
    public void close() {
        closed = true;
        try {
            thread.join(TimeUnit.SECONDS.toMillis(5));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
