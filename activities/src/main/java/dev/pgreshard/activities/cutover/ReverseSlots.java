package dev.pgreshard.activities.cutover;

import dev.pgreshard.activities.support.ShardCalls;
import dev.pgreshard.activities.replication.SlotManager;
import dev.pgreshard.activities.replication.StreamEndpoints;
import dev.pgreshard.core.pg.Lsn;
import dev.pgreshard.core.pg.PgConnector;
import dev.pgreshard.core.topology.Shard;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The reverse replication slots a cutover creates while clients are paused, so that reverse
 * replication starts exactly where the destination starts taking writes. Everything that can be done
 * before the pause is: a connection per destination shard, opened with its statement_timeout at the
 * pause budget, and the check for a slot an earlier attempt left; inside the pause each missing slot
 * costs one statement, all shards at once, running alongside the sequence spacing.
 */
final class ReverseSlots implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ReverseSlots.class);

    private final StreamEndpoints reverse;
    private final SlotManager slots;
    private final List<Connection> connections = new ArrayList<>();
    private final List<Boolean> missing = new ArrayList<>();
    private CompletableFuture<?> creation;

    private ReverseSlots(StreamEndpoints reverse, SlotManager slots) {
        this.reverse = reverse;
        this.slots = slots;
    }

    /** Before the pause: connections to every shard the reverse stream reads, and which slots are missing. */
    static ReverseSlots open(PgConnector connector, StreamEndpoints reverse, long timeoutMs) throws SQLException {
        ReverseSlots r = new ReverseSlots(reverse, new SlotManager(connector));
        try {
            for (Shard shard : reverse.readCluster().shards()) {
                Connection c = connector.open(shard);
                r.connections.add(c);
                // the check runs before the pause, so it is not held to the pause budget (a budget of a few ms
                // would cancel it and fail the attempt before any pause)
                Lsn existing = r.slots.slotPosition(c, reverse, shard.index());
                r.missing.add(existing == null);
                try (Statement s = c.createStatement()) {
                    // creating a logical slot waits for the server's running transactions: never past the pause budget
                    s.execute("SET statement_timeout = " + Math.max(1, timeoutMs));
                }
            }
        } catch (SQLException | RuntimeException e) {
            r.close();
            throw e;
        }
        return r;
    }

    /** Whether a slot existed already (left by an earlier attempt of this cutover). */
    boolean anyLeftBefore() {
        return missing.contains(Boolean.FALSE);
    }

    /** Inside the pause, after the drain: starts creating the missing slots, every shard at once. */
    void start() {
        creation = ShardCalls.start(connections.size(), shard -> missing.get(shard)
                ? slots.createMissingSlot(connections.get(shard), reverse, shard) : null);
    }

    /** Waits for {@link #start}'s slots, at most {@code timeoutMs}; an error says which failed and why. */
    void await(long timeoutMs) throws SQLException {
        try {
            creation.get(timeoutMs, TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            throw new SQLException("creating the reverse replication slots outlasted the pause budget (a long-running "
                    + "transaction on a destination server delays a new slot)", "57014", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new SQLException("interrupted while creating the reverse replication slots", e);
        } catch (ExecutionException e) {
            Throwable cause = e.getCause() instanceof java.util.concurrent.CompletionException ce && ce.getCause() != null
                    ? ce.getCause() : e.getCause();
            String state = cause instanceof SQLException se ? se.getSQLState() : null;
            String why = "57014".equals(state) ? "creating the reverse replication slots outlasted the pause budget (a "
                    + "long-running transaction on a destination server delays a new slot)"
                    : "creating the reverse replication slots failed: " + cause.getMessage();
            throw new SQLException(why, state, cause);
        }
    }

    /** After an abort, before the slots are dropped: a creation still running ends (statement_timeout bounds it). */
    void awaitQuietly() {
        if (creation == null) {
            return;
        }
        try {
            creation.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException e) {
            log.debug("reverse slot creation of {} failed: {}", reverse.task().taskId(), e.getCause().getMessage());
        }
    }

    @Override
    public void close() {
        awaitQuietly();
        for (Connection c : connections) {
            try {
                c.close();
            } catch (SQLException ignored) {
                // only closing
            }
        }
    }
}
