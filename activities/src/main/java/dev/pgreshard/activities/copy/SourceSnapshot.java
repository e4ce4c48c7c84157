package dev.pgreshard.activities.copy;

import dev.pgreshard.core.pg.Lsn;
import dev.pgreshard.core.pg.PgConnector;
import dev.pgreshard.core.topology.Shard;

import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.HexFormat;

/**
 * A consistent snapshot of one source shard and the WAL position it corresponds to: a TEMPORARY
 * logical slot created with EXPORT_SNAPSHOT on a replication connection. Its consistent_point is
 * the LSN from which replication must apply this table's changes; readers join the snapshot with
 * SET TRANSACTION SNAPSHOT, so several can read key ranges of one table at the same instant.
 *
 * <p>The snapshot stays importable only while this connection is open and idle, so it is closed
 * only after the whole table was read. A temporary slot is dropped by the server when the session
 * ends, whichever way it ends (close, crash, killed JVM): it cannot leak.
 */
final class SourceSnapshot implements AutoCloseable {
    private static final SecureRandom RANDOM = new SecureRandom();
    private final Connection replication;
    private final String slot;
    private final String snapshotId;
    private final Lsn lsn;

    private SourceSnapshot(Connection replication, String slot, String snapshotId, Lsn lsn) {
        this.replication = replication;
        this.slot = slot;
        this.snapshotId = snapshotId;
        this.lsn = lsn;
    }

    /** @param slotPrefix the task's object prefix, so an operator can tell whose slot it is */
    static SourceSnapshot create(PgConnector connector, Shard shard, String slotPrefix) throws SQLException {
        byte[] random = new byte[4];
        RANDOM.nextBytes(random);
        String slot = (slotPrefix.length() > 50 ? slotPrefix.substring(0, 50) : slotPrefix) + "_c"
                + HexFormat.of().formatHex(random);
        Connection c = connector.openReplication(shard);
        try (Statement s = c.createStatement();
             // the pre-PG15 spelling, still accepted by 15+, so one statement serves every supported server
             ResultSet rs = s.executeQuery("CREATE_REPLICATION_SLOT " + slot + " TEMPORARY LOGICAL pgoutput EXPORT_SNAPSHOT")) {
            rs.next();
            return new SourceSnapshot(c, slot, rs.getString("snapshot_name"), Lsn.parse(rs.getString("consistent_point")));
        } catch (SQLException | RuntimeException e) {
            c.close();
            throw e;
        }
    }

    String snapshotId() {
        return snapshotId;
    }

    Lsn lsn() {
        return lsn;
    }

    String slot() {
        return slot;
    }

    @Override
    public void close() throws SQLException {
        replication.close();
    }
}
