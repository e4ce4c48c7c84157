package dev.pgreshard.activities.cutover;

import dev.pgreshard.activities.support.ShardCalls;
import dev.pgreshard.activities.replication.CutoverMarker;
import dev.pgreshard.activities.replication.ProgressTable;
import dev.pgreshard.activities.replication.StreamEndpoints;
import dev.pgreshard.core.pg.Lsn;
import dev.pgreshard.core.pg.PgConnector;
import dev.pgreshard.core.topology.Shard;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.locks.LockSupport;

/**
 * Proves, while clients are paused, that a replication stream has applied everything its read
 * shards committed: a transactional logical message (a marker) is written on every read shard, and
 * the wait ends once every write shard's progress row for that read shard is past the marker. The
 * marker travels in the stream like any transaction (the streams ask pgoutput for messages), so it
 * is applied after every transaction committed before it, and its commit makes the stream flush at
 * once. Connections are opened (and read shards' synchronous_commit set) before the pause so that
 * the pause pays for one round trip per marker, written on all read shards at once.
 */
final class StreamDrain implements AutoCloseable {
    /**
     * How often the wait for the markers reads the progress rows (one statement per write shard each time).
     * Inside the pause clients wait for the answer, so it is read every millisecond. Before the pause nobody
     * waits for it but the worker, and the reads are not free: at a read every millisecond (~450 a second, a
     * statement per write shard each) the worker's JVM used 440 ms of CPU a second during the caught-up check, 300
     * outside it, and 360 at a read every 10 ms — bench/cutover on 2 cores, 2026-12-03, load 5–7, a machine the
     * clients, their servers and the proxies already saturate, where the clients' commits then wait for a core.
     * (The caught-up check's 50 ms "settled" mark is read 10 ms coarser; a check that misses it tries once more.)
     */
    enum Polling {
        CLIENTS_PAUSED(1_000_000),
        NOBODY_WAITING(10_000_000);

        private final long nanos;

        Polling(long nanos) {
            this.nanos = nanos;
        }
    }

    /** How often a long wait calls its heartbeat (whatever the polling). */
    private static final long HEARTBEAT_NANOS = 500_000_000;

    private final StreamEndpoints endpoints;
    private final List<Connection> readShards = new ArrayList<>();
    private final List<Connection> writeShards = new ArrayList<>();
    /** Per write shard, its WAL insert position read by the poll that saw the markers applied (see {@link #writePositionsAfterDrain}). */
    private final List<Lsn> writePositions = new ArrayList<>();
    /** Reads of the progress rows by the last {@link #awaitApplied} (for the step log and tests). */
    private long lastPolls;

    StreamDrain(PgConnector connector, StreamEndpoints endpoints) throws SQLException {
        this.endpoints = endpoints;
        try {
            for (Shard s : endpoints.readCluster().shards()) {
                Connection c = connector.open(s);
                readShards.add(c);
                try (java.sql.Statement st = c.createStatement()) {
                    // the marker must be durable before the drain may count on it, whatever the server's default
                    st.execute("SET synchronous_commit = on");
                }
            }
            for (Shard s : endpoints.writeCluster().shards()) {
                writeShards.add(connector.open(s));
            }
        } catch (SQLException e) {
            close();
            throw e;
        }
    }

    /** Open connections to the shards traffic leaves (autocommit). */
    List<Connection> readShards() {
        return readShards;
    }

    /** The shards traffic goes to, described for messages (in {@link #writeShards()}'s order). */
    List<String> writeShardNames() {
        return endpoints.writeCluster().shards().stream().map(Shard::describe).toList();
    }

    /** Open connections to the shards traffic goes to (autocommit). */
    List<Connection> writeShards() {
        return writeShards;
    }

    /**
     * Writes the marker on every read shard at once (each one statement in its own transaction,
     * committed durably); returns each one's position.
     */
    List<Lsn> writeMarkers() throws SQLException {
        return ShardCalls.onEach(readShards.size(), r -> {
            try (PreparedStatement ps = readShards.get(r).prepareStatement(
                    "SELECT pg_catalog.pg_logical_emit_message(true, ?, ?)::text")) {
                ps.setString(1, CutoverMarker.PREFIX);
                ps.setString(2, endpoints.task().taskId());
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    return Lsn.parse(rs.getString(1));
                }
            }
        });
    }

    /** Bytes of WAL between what is applied (least over the write shards) and the markers, summed over read shards. */
    long lagBytes(List<Lsn> markers) throws SQLException {
        long bytes = 0;
        for (int r = 0; r < markers.size(); r++) {
            Lsn applied = leastApplied(r);
            bytes += applied.isValid() ? Math.max(0, markers.get(r).value() - applied.value()) : 0;
        }
        return bytes;
    }

    /**
     * Waits until every write shard has applied each read shard's marker, or the clock runs out.
     * The stream confirms nothing it has not committed on every write shard, so a progress row past
     * the marker means every earlier transaction of that read shard is on that write shard. Returns
     * the lag seen at the first read (bytes of WAL between what was applied and the markers, summed over
     * read shards), so that measuring it costs the pause no extra round trip. Each poll is one
     * statement per write shard, which also reads that server's WAL insert position (see
     * {@link #writePositionsAfterDrain}).
     */
    long awaitApplied(List<Lsn> markers, PauseClock clock, Runnable heartbeat, Polling polling)
            throws SQLException, PauseClock.OverBudgetException {
        long polls = 0;
        lastPolls = 0;
        long lastBeat = System.nanoTime();
        long lagBytes = 0;
        writePositions.clear();
        for (int r = 0; r < markers.size(); r++) {
            boolean first = true;
            while (true) {
                lastPolls = ++polls;
                if (System.nanoTime() - lastBeat >= HEARTBEAT_NANOS) {
                    heartbeat.run();
                    lastBeat = System.nanoTime();
                }
                Lsn applied = leastApplied(r);
                if (first && applied.isValid()) {
                    lagBytes += Math.max(0, markers.get(r).value() - applied.value());
                }
                first = false;
                if (applied.isValid() && applied.isAfter(markers.get(r))) {
                    break;
                }
                clock.check("waiting for the " + endpoints.describe(r) + " to apply everything up to " + markers.get(r)
                        + " (applied: " + applied + "; is replication running?)");
                LockSupport.parkNanos(polling.nanos);
            }
        }
        return lagBytes;
    }

    /** How many times the last {@link #awaitApplied} read the progress rows. */
    long lastPolls() {
        return lastPolls;
    }

    /**
     * After {@link #awaitApplied} returned: each write shard's WAL insert position, read in the same
     * statement that saw the last marker applied there. Every transaction the stream committed on that
     * shard up to the markers has its commit record before it (a transaction is visible only once its
     * commit record is inserted); while clients are paused nothing else writes there, so a stream
     * reading the write shards back (reverse replication) must skip exactly the transactions committed
     * before these positions.
     */
    List<Lsn> writePositionsAfterDrain() {
        if (writePositions.size() != writeShards.size()) {
            throw new IllegalStateException("the drain has not completed: no write shard positions");
        }
        return List.copyOf(writePositions);
    }

    /** "forward stream of task X", for messages. */
    String describe() {
        return endpoints.direction().name().toLowerCase() + " stream of task " + endpoints.task().taskId();
    }

    private Lsn leastApplied(int readShard) throws SQLException {
        Lsn least = null;
        writePositions.clear();
        for (int w = 0; w < writeShards.size(); w++) {
            Lsn applied = appliedOn(w, readShard);
            if (least == null || applied.isBefore(least)) {
                least = applied;
            }
        }
        return least == null ? Lsn.INVALID : least;
    }

    /**
     * One round trip: the progress of {@code readShard}'s stream on write shard {@code w} (invalid when
     * none yet) and that server's WAL insert position, kept in {@link #writePositions}.
     */
    private Lsn appliedOn(int w, int readShard) throws SQLException {
        ProgressTable.Applied a = ProgressTable.readApplied(writeShards.get(w), endpoints.task().taskId(),
                endpoints.direction(), readShard);
        writePositions.add(a.walInsert());
        return a.endLsn();
    }

    @Override
    public void close() {
        for (Connection c : readShards) {
            closeQuietly(c);
        }
        for (Connection c : writeShards) {
            closeQuietly(c);
        }
    }

    private static void closeQuietly(Connection c) {
        try {
            c.close();
        } catch (SQLException ignored) {
            // the drain's answer is already known
        }
    }
}
