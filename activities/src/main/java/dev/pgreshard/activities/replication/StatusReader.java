package dev.pgreshard.activities.replication;

import dev.pgreshard.activities.replication.ProgressTable.Progress;
import dev.pgreshard.core.pg.Lsn;
import dev.pgreshard.core.pg.PgConnector;
import dev.pgreshard.core.topology.Shard;
import dev.pgreshard.workflows.replication.ReplicationStatus;
import dev.pgreshard.workflows.replication.StreamPosition;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * The status of a stream read from the databases alone (no running stream needed): per read shard,
 * {@code pg_current_wal_lsn()}, the slot's confirmed position and the progress rows on the write
 * shards. Applied = the later of the slot's confirmed position and the least progress over the
 * write shards (both only ever cover durably applied changes).
 * <p>
 * Its connections are kept between reads and closed after {@link #IDLE_MS} without one (or by {@link #close}):
 * the workflow's lag poll and every {@code status} / SHOW TASKS read it, and a connection per shard per read
 * cost each server a process start and a login — up to ten a second while bench/cutover polled the status
 * every 300 ms, on the servers whose clients' commits the cutover is judged by. A kept connection that fails
 * is closed and the statement run once more on a new one (a server restarted between two reads is no error).
 * Thread-safe: reads are serialised (each is a few short statements).
 */
public final class StatusReader implements AutoCloseable {
    /** Kept connections unused this long are closed. */
    static final long IDLE_MS = 10_000;
    private static final ScheduledExecutorService SWEEPER = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "pgreshard-status-idle");
        t.setDaemon(true);
        return t;
    });

    private final PgConnector connector;
    /** Kept connections by shard, each with when it was last used. */
    private final Map<Shard, Kept> kept = new HashMap<>();
    private boolean sweepScheduled;
    private boolean closed;

    public StatusReader(PgConnector connector) {
        this.connector = connector;
    }

    /** What a kept connection runs; the caller's statements and result sets are closed inside. */
    private interface Work<T> {
        T on(Connection c) throws SQLException;
    }

    /** Runs {@code work} on the kept connection to {@code shard}, or a new one; once more on a new one when a kept one fails. */
    private <T> T with(Shard shard, Work<T> work) throws SQLException {
        Kept last = kept.remove(shard);
        if (last != null) {
            try {
                T result = work.on(last.connection());
                keep(shard, last.connection());
                return result;
            } catch (SQLException e) {
                closeQuietly(last.connection()); // dead or in an unknown state: never reused; tried once on a new one
            }
        }
        Connection c = connector.open(shard);
        try {
            T result = work.on(c);
            keep(shard, c);
            return result;
        } catch (SQLException | RuntimeException e) {
            closeQuietly(c);
            throw e;
        }
    }

    private void keep(Shard shard, Connection c) {
        if (closed) {
            closeQuietly(c);
            return;
        }
        kept.put(shard, new Kept(c, System.currentTimeMillis()));
        if (!sweepScheduled) {
            sweepScheduled = true;
            SWEEPER.schedule(this::sweep, IDLE_MS, TimeUnit.MILLISECONDS);
        }
    }

    /** Closes the connections idle for {@link #IDLE_MS}; checks again later while some are kept. */
    private synchronized void sweep() {
        long now = System.currentTimeMillis();
        kept.values().removeIf(k -> {
            if (now - k.usedAt() < IDLE_MS) {
                return false;
            }
            closeQuietly(k.connection());
            return true;
        });
        sweepScheduled = !kept.isEmpty();
        if (sweepScheduled) {
            SWEEPER.schedule(this::sweep, IDLE_MS / 2, TimeUnit.MILLISECONDS);
        }
    }

    /** How many connections are kept now (for tests). */
    synchronized int keptConnections() {
        return kept.size();
    }

    /** Closes the kept connections; a read after this still works but keeps nothing. */
    @Override
    public synchronized void close() {
        closed = true;
        kept.values().forEach(k -> closeQuietly(k.connection()));
        kept.clear();
    }

    private static void closeQuietly(Connection c) {
        try {
            c.close();
        } catch (SQLException ignored) {
            // closing is all that is left to do with it
        }
    }

    public synchronized ReplicationStatus read(StreamEndpoints endpoints) throws SQLException {
        long now = System.currentTimeMillis();
        List<StreamPosition> positions = new ArrayList<>();
        long bytes = 0;
        double seconds = 0;
        for (Shard shard : endpoints.readCluster().shards()) {
            String slot = endpoints.slotName(shard.index());
            SlotState state = with(shard, c -> slotState(c, slot));
            Lsn current = state.current();
            Lsn confirmed = state.confirmed();
            boolean active = state.active();
            Double replayLag = state.replayLag();
            Progress least = null;
            for (Shard dest : endpoints.writeCluster().shards()) {
                Progress p = with(dest, c -> ProgressTable.read(c, endpoints.task().taskId(), endpoints.direction(), shard.index()));
                if (least == null || p.commitLsn().isBefore(least.commitLsn())) {
                    least = p;
                }
            }
            least = least == null ? Progress.NONE : least;
            Lsn applied = Lsn.max(confirmed, least.endLsn());
            StreamPosition position = new StreamPosition(shard.index(), current, applied, least.commitEpochMs());
            positions.add(position);
            bytes += position.lagBytes();
            double streamSeconds;
            if (position.lagBytes() == 0) {
                streamSeconds = 0;
            } else if (active) {
                streamSeconds = replayLag == null ? 0 : replayLag; // the walsender's own measure; null = caught up
            } else {
                streamSeconds = least.commitEpochMs() == 0 ? 0 : Math.max(0, (now - least.commitEpochMs()) / 1000.0);
            }
            seconds = Math.max(seconds, streamSeconds);
        }
        return new ReplicationStatus(positions, bytes, seconds);
    }

    /** A connection kept between reads and when it was last used (epoch ms). */
    private record Kept(Connection connection, long usedAt) {
    }

    /** One read shard's WAL position and its slot's: confirmed position, whether streamed now, the walsender's replay lag. */
    private record SlotState(Lsn current, Lsn confirmed, boolean active, Double replayLag) {
    }

    private static SlotState slotState(Connection c, String slot) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT pg_current_wal_lsn()::text, s.confirmed_flush_lsn::text,"
                + " s.active_pid IS NOT NULL, extract(epoch FROM r.replay_lag)::float8"
                + " FROM (SELECT 1) one"
                + " LEFT JOIN pg_catalog.pg_replication_slots s ON s.slot_name = ? AND s.database = current_database()"
                + " LEFT JOIN pg_catalog.pg_stat_replication r ON r.pid = s.active_pid")) {
            ps.setString(1, slot);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                Lsn confirmed = rs.getString(2) == null ? Lsn.INVALID : Lsn.parse(rs.getString(2));
                boolean active = rs.getBoolean(3);
                double lag = rs.getDouble(4);
                return new SlotState(Lsn.parse(rs.getString(1)), confirmed, active, rs.wasNull() ? null : lag);
            }
        }
    }
}
