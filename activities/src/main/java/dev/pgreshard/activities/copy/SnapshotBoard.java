package dev.pgreshard.activities.copy;

import dev.pgreshard.core.config.ControlConfig;
import dev.pgreshard.core.pg.Lsn;
import dev.pgreshard.workflows.copy.HeldSnapshot;
import dev.pgreshard.workflows.copy.SnapshotHold;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Optional;
import java.util.Properties;

/**
 * Where snapshot holders publish the snapshots of split copies: the control store's
 * pgreshard_copy_snapshot (migration V4). Short connections; a holder publishes once and the
 * waiting activity polls a few times, so no pool is needed.
 */
final class SnapshotBoard {
    private final ControlConfig control;

    SnapshotBoard(ControlConfig control) {
        this.control = control;
    }

    void publish(SnapshotHold hold, HeldSnapshot snapshot) throws SQLException {
        try (Connection c = connect();
             PreparedStatement ps = c.prepareStatement("INSERT INTO pgreshard_copy_snapshot "
                     + "(hold_key, task_id, snapshot_id, lsn, worker) VALUES (?, ?, ?, ?, ?) ON CONFLICT (hold_key) "
                     + "DO UPDATE SET snapshot_id = excluded.snapshot_id, lsn = excluded.lsn, worker = excluded.worker")) {
            ps.setString(1, hold.key());
            ps.setString(2, hold.task().taskId());
            ps.setString(3, snapshot.snapshotId());
            ps.setString(4, snapshot.lsn().toString());
            ps.setString(5, snapshot.worker());
            ps.executeUpdate();
        }
    }

    Optional<HeldSnapshot> find(SnapshotHold hold) throws SQLException {
        try (Connection c = connect();
             PreparedStatement ps = c.prepareStatement(
                     "SELECT snapshot_id, lsn, worker FROM pgreshard_copy_snapshot WHERE hold_key = ?")) {
            ps.setString(1, hold.key());
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? Optional.of(new HeldSnapshot(hold.sourceShard(), rs.getString(1),
                        Lsn.parse(rs.getString(2)), rs.getString(3))) : Optional.empty();
            }
        }
    }

    void remove(SnapshotHold hold) throws SQLException {
        try (Connection c = connect();
             PreparedStatement ps = c.prepareStatement("DELETE FROM pgreshard_copy_snapshot WHERE hold_key = ?")) {
            ps.setString(1, hold.key());
            ps.executeUpdate();
        }
    }

    private Connection connect() throws SQLException {
        Properties p = new Properties();
        p.setProperty("user", control.user());
        p.setProperty("password", control.password().reveal());
        p.setProperty("ApplicationName", "pgreshard copy snapshots");
        p.setProperty("connectTimeout", "10");
        return DriverManager.getConnection(control.url(), p);
    }
}
