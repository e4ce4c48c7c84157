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
import java.util.List;

/**
 * The status of a stream read from the databases alone (no running stream needed): per read shard,
 * {@code pg_current_wal_lsn()}, the slot's confirmed position and the progress rows on the write
 * shards. Applied = the later of the slot's confirmed position and the least progress over the
 * write shards (both only ever cover durably applied changes).
 */
public final class StatusReader {
    private final PgConnector connector;

    public StatusReader(PgConnector connector) {
        this.connector = connector;
    }

    public ReplicationStatus read(StreamEndpoints endpoints) throws SQLException {
        long now = System.currentTimeMillis();
        List<StreamPosition> positions = new ArrayList<>();
        long bytes = 0;
        double seconds = 0;
        for (Shard shard : endpoints.readCluster().shards()) {
            Lsn current;
            Lsn confirmed = Lsn.INVALID;
            Double replayLag = null;
            boolean active = false;
            try (Connection c = connector.open(shard);
                 PreparedStatement ps = c.prepareStatement("SELECT pg_current_wal_lsn()::text, s.confirmed_flush_lsn::text,"
                         + " s.active_pid IS NOT NULL, extract(epoch FROM r.replay_lag)::float8"
                         + " FROM (SELECT 1) one"
                         + " LEFT JOIN pg_catalog.pg_replication_slots s ON s.slot_name = ? AND s.database = current_database()"
                         + " LEFT JOIN pg_catalog.pg_stat_replication r ON r.pid = s.active_pid")) {
                ps.setString(1, endpoints.slotName(shard.index()));
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    current = Lsn.parse(rs.getString(1));
                    if (rs.getString(2) != null) {
                        confirmed = Lsn.parse(rs.getString(2));
                    }
                    active = rs.getBoolean(3);
                    double lag = rs.getDouble(4);
                    replayLag = rs.wasNull() ? null : lag;
                }
            }
            Progress least = null;
            for (Shard dest : endpoints.writeCluster().shards()) {
                try (Connection c = connector.open(dest)) {
                    Progress p = ProgressTable.read(c, endpoints.task().taskId(), endpoints.direction(), shard.index());
                    if (least == null || p.commitLsn().isBefore(least.commitLsn())) {
                        least = p;
                    }
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
}
