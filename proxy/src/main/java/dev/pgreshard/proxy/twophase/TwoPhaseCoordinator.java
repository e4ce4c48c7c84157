package dev.pgreshard.proxy.twophase;

import dev.pgreshard.proxy.protocol.PgFrame;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executor;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;

/**
 * Commits a transaction that wrote on several shards, one per proxy: PREPARE TRANSACTION on every
 * written shard, the COMMIT decision recorded in the {@link DecisionLog}, then COMMIT PREPARED
 * everywhere. A failure before the decision rolls every prepared shard back and the client gets the
 * shard's error; after the decision the transaction is committed, by this proxy or by
 * {@link PreparedRecovery} if this one dies. Decisions are forgotten in batches once every shard
 * committed. The shards are reached through the session's own connections ({@link Participant}), on
 * the session's event loop; only the decision log is called on this coordinator's threads: commit
 * decisions of concurrent commits are written together ({@link GroupCommit}).
 */
public final class TwoPhaseCoordinator implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(TwoPhaseCoordinator.class);
    private static final long FORGET_EVERY_MS = 200;

    /** A shard the transaction wrote on, reached through the session's connection to it. */
    public interface Participant {
        int shard();

        /**
         * Runs {@code sql} (a simple Query) on the shard; {@code done} gets null when it succeeded, else
         * the ErrorResponse (ownership passes), on the session's event loop.
         */
        void run(String sql, Consumer<PgFrame> done);
    }

    /**
     * How the commit ended: committed, or not with the error for the client (the shard's ErrorResponse
     * when a shard refused, else {@code sqlState}/{@code message}).
     */
    public record Result(boolean committed, PgFrame shardError, String sqlState, String message) {
        static Result ok() {
            return new Result(true, null, null, null);
        }
    }

    private final String proxyId;
    private final AtomicLong seq = new AtomicLong();
    private final AtomicReference<DecisionLog> log = new AtomicReference<>();
    private final ScheduledExecutorService io;
    private final GroupCommit groupCommit = new GroupCommit(log::get);
    private final ConcurrentLinkedQueue<String> toForget = new ConcurrentLinkedQueue<>();

    public TwoPhaseCoordinator(SecureRandom random) {
        // a fresh id per process: a restarted proxy never reuses the gids of the one that died
        this.proxyId = Long.toString(random.nextLong() >>> 16, 36).toLowerCase(Locale.ROOT);
        this.io = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "pgreshard-2pc-forget");
            t.setDaemon(true);
            return t;
        });
        io.scheduleWithFixedDelay(this::forgetCommitted, FORGET_EVERY_MS, FORGET_EVERY_MS, TimeUnit.MILLISECONDS);
    }

    public String proxyId() {
        return proxyId;
    }

    /** Binds the durable decision store; until then multi-shard transactions are refused. */
    public void bind(DecisionLog decisions) {
        log.set(decisions);
    }

    public boolean ready() {
        return log.get() != null;
    }

    public DecisionLog decisions() {
        return log.get();
    }

    /**
     * Commits the transaction open on {@code participants} (at least two); {@code loop} is the session's
     * event loop, on which {@code done} is called once.
     */
    public void commit(List<Participant> participants, String description, Executor loop, Consumer<Result> done) {
        if (log.get() == null) {
            throw new IllegalStateException("two-phase commit has no decision log bound");
        }
        new CommitRun(this, seq.incrementAndGet(), participants, description, loop, done).prepare();
    }

    Gid gid(long n, int shard) {
        return new Gid(proxyId, n, shard);
    }

    /** Records a commit decision with those of concurrent commits ({@link GroupCommit}); the callback runs on its thread. */
    void decide(DecisionLog.Request request, GroupCommit.Callback callback) {
        groupCommit.submit(request, callback);
    }

    void forgetLater(String transaction) {
        toForget.add(transaction);
    }

    private void forgetCommitted() {
        List<String> batch = new ArrayList<>();
        for (String gid; batch.size() < 1000 && (gid = toForget.poll()) != null; ) {
            batch.add(gid);
        }
        DecisionLog decisions = log.get();
        if (batch.isEmpty() || decisions == null) {
            return;
        }
        try {
            decisions.forget(batch);
        } catch (RuntimeException e) {
            // harmless: recovery removes decisions whose transactions are resolved everywhere
            LOG.warn("cannot remove {} resolved commit decisions from the control store ({}); recovery will", batch.size(),
                    e.getMessage());
        }
    }

    @Override
    public void close() {
        groupCommit.close();
        io.shutdown();
        try {
            io.awaitTermination(2, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        forgetCommitted();
    }
}
