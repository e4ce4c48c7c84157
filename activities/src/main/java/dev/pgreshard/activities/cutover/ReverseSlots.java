package dev.pgreshard.activities.cutover;

import dev.pgreshard.activities.replication.ProgressTable;
import dev.pgreshard.activities.replication.SlotManager;
import dev.pgreshard.activities.replication.StreamEndpoints;
import dev.pgreshard.activities.support.ShardCalls;
import dev.pgreshard.core.pg.Lsn;
import dev.pgreshard.core.pg.PgConnector;
import dev.pgreshard.core.topology.Shard;
import dev.pgreshard.workflows.replication.Direction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Where reverse replication starts. Its slots are created (or found) on every destination shard
 * before the pause — creating a logical slot waits for the transactions running on that server, which
 * clients must not wait for — so a slot's start is earlier than the switch, and what forward
 * replication applies to the destination after it is in the slot too. What decides instead is the
 * <em>skip point</em>: inside the pause, after the drain, each destination shard's WAL insert position
 * (read by the drain's last poll, {@link StreamDrain#writePositionsAfterDrain}) is written as the
 * reverse stream's progress on every source shard, in one statement per source shard running alongside
 * the sequence spacing. A stream skips every transaction whose commit lies at or before its progress
 * ({@code ChangeRouter}), durably and on every restart, so exactly the transactions the destination
 * commits after the pause flow back. A slot left by an earlier attempt that died (inside its pause or
 * before) is therefore reused: the skip point written by the attempt that swaps decides, whatever the
 * slot's start.
 *
 * <p>Why not the slot itself: starting the stream at the position ({@code START_REPLICATION … LOGICAL
 * lsn}) skips the same transactions in PostgreSQL (a start past the slot's {@code confirmed_flush}
 * becomes the decoding start, and transactions committing before it are skipped), but the position would
 * have to be kept somewhere for every restart; {@code pg_replication_slot_advance} persists only at the
 * next checkpoint (a server crash can move the slot back). The progress row is written before the commit
 * point, in the database the reverse stream writes to, and read by that stream when it starts.
 */
final class ReverseSlots implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ReverseSlots.class);
    /** Creating a slot waits for the destination's running transactions; not for ever (no client is paused yet). */
    private static final long CREATE_TIMEOUT_MS = 60_000;

    private final StreamEndpoints reverse;
    private final List<Connection> sourceShards = new ArrayList<>();
    private int reused;
    private CompletableFuture<?> skipWrite;

    private ReverseSlots(StreamEndpoints reverse) {
        this.reverse = reverse;
    }

    /**
     * Before the pause: the reverse publication (before any slot: a slot must not start before its
     * publication exists), every destination shard's slot (a slot left by an earlier attempt moved up to
     * now), and a connection to every source shard with the progress table, for the skip point.
     */
    static ReverseSlots prepare(PgConnector connector, StreamEndpoints reverse) throws SQLException {
        if (reverse.direction() != Direction.REVERSE) {
            throw new IllegalArgumentException("not a reverse stream: " + reverse.describe(0));
        }
        SlotManager slots = new SlotManager(connector);
        slots.ensurePublications(reverse);
        ReverseSlots r = new ReverseSlots(reverse);
        try {
            for (Shard shard : reverse.readCluster().shards()) {
                try (Connection c = connector.open(shard)) {
                    if (slots.slotPosition(c, reverse, shard.index()) != null) {
                        // its start does not matter (the skip point does); moving it up only spares the stream
                        // decoding what forward replication applied since
                        advanceToNow(c, reverse.slotName(shard.index()));
                        r.reused++;
                    } else {
                        try (Statement s = c.createStatement()) {
                            s.execute("SET statement_timeout = " + CREATE_TIMEOUT_MS);
                        }
                        try {
                            slots.createMissingSlot(c, reverse, shard.index());
                        } catch (SQLException e) {
                            if ("57014".equals(e.getSQLState())) {
                                throw new SQLException("creating reverse replication slot " + reverse.slotName(shard.index())
                                        + " on " + shard.describe() + " waited " + CREATE_TIMEOUT_MS / 1000 + " s for the "
                                        + "transactions running there (a new slot waits for them): end the long-running "
                                        + "transaction and cut over again; no client was paused", "57014", e);
                            }
                            throw e;
                        }
                    }
                }
            }
            for (Shard shard : reverse.writeCluster().shards()) {
                Connection c = connector.open(shard);
                r.sourceShards.add(c);
                ProgressTable.ensure(c);
                try (Statement s = c.createStatement()) {
                    // the skip point must be durable before the commit point, whatever the server's default
                    s.execute("SET synchronous_commit = on");
                }
            }
        } catch (SQLException | RuntimeException e) {
            r.close();
            throw e;
        }
        if (r.reused > 0) {
            log.info("{}: reusing {} reverse slot(s) left by an earlier cutover attempt that did not swap (the skip point "
                    + "written in this attempt's pause decides where reverse replication starts)", reverse.task().taskId(), r.reused);
        }
        return r;
    }

    private static void advanceToNow(Connection c, String slot) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT pg_catalog.pg_replication_slot_advance(?, "
                + "pg_catalog.pg_current_wal_lsn())")) {
            ps.setString(1, slot);
            ps.execute();
        }
    }

    /** How many slots an earlier attempt had left (reused). */
    int reused() {
        return reused;
    }

    /**
     * Inside the pause, after the drain: writes the skip point, {@code destinationPositions[d]} for
     * destination shard d, on every source shard at once. A transaction of destination shard d
     * committed before that position (its commit record starts before it) is skipped; the progress
     * row holds the last position skipped, one byte before.
     */
    void startSkipPoint(List<Lsn> destinationPositions) {
        if (destinationPositions.size() != reverse.readCluster().shards().size()) {
            throw new IllegalArgumentException("one position per destination shard expected, got " + destinationPositions);
        }
        skipWrite = ShardCalls.start(sourceShards.size(), s -> {
            try (PreparedStatement ps = ProgressTable.prepareSkipUpTo(sourceShards.get(s), destinationPositions.size())) {
                for (int d = 0; d < destinationPositions.size(); d++) {
                    ProgressTable.bindSkipUpTo(ps, d, reverse.task().taskId(), Direction.REVERSE, d,
                            Lsn.of(destinationPositions.get(d).value() - 1));
                }
                ps.executeUpdate();
            }
            return null;
        });
    }

    /** Waits for {@link #startSkipPoint}, at most {@code timeoutMs}; an error says which failed and why. */
    void await(long timeoutMs) throws SQLException {
        try {
            skipWrite.get(timeoutMs, TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            throw new SQLException("writing where reverse replication starts on the source outlasted the pause budget",
                    "57014", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new SQLException("interrupted while writing where reverse replication starts", e);
        } catch (ExecutionException e) {
            Throwable cause = e.getCause() instanceof java.util.concurrent.CompletionException ce && ce.getCause() != null
                    ? ce.getCause() : e.getCause();
            throw new SQLException("writing where reverse replication starts on the source failed: " + cause.getMessage(),
                    cause instanceof SQLException se ? se.getSQLState() : null, cause);
        }
    }

    /** After an abort, before the slots and progress rows are dropped: a write still running ends first. */
    void awaitQuietly() {
        if (skipWrite == null) {
            return;
        }
        try {
            skipWrite.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException e) {
            log.debug("writing the reverse skip point of {} failed: {}", reverse.task().taskId(), e.getCause().getMessage());
        }
    }

    @Override
    public void close() {
        awaitQuietly();
        for (Connection c : sourceShards) {
            try {
                c.close();
            } catch (SQLException ignored) {
                // only closing
            }
        }
    }
}
