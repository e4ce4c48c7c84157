package dev.pgreshard.activities.control;

import dev.pgreshard.core.config.ControlConfig;
import dev.pgreshard.workflows.TaskRef;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Optional;
import java.util.Properties;

/**
 * The claims of a task in the control store, checked and taken in one transaction under one
 * advisory lock, so two tasks started at once (from the CLI, the admin database or a Temporal
 * client outside pgreshard) cannot both pass:
 * <ul>
 * <li>the task id is not registered for another pair, nor by an earlier task that ended;</li>
 * <li>no other live task uses the source or the destination cluster (one pair, one task; no
 *     destination shared by two tasks);</li>
 * <li>the source database is not routed to another cluster (its data there would be stale);</li>
 * <li>no other database is routed to the destination (it serves that database's traffic).</li>
 * </ul>
 * Then the task's row is registered, unless it already is (the CLI registers it right after the start).
 */
public final class TaskClaims {
    /** First key of the advisory lock: "pgrc". */
    private static final int NAMESPACE = 0x70677263;
    private static final String FINAL = "('DONE', 'STOPPED', 'FAILED')";

    private TaskClaims() {
    }

    /** Thrown when the task may not run; the message names the other task or route and the way out. */
    public static final class Refused extends RuntimeException {
        Refused(String message) {
            super(message);
        }
    }

    public static void claim(ControlConfig control, TaskRef task) throws SQLException {
        Properties p = new Properties();
        p.setProperty("user", control.user());
        p.setProperty("password", control.password().reveal());
        p.setProperty("ApplicationName", "pgreshard claim " + task.taskId());
        p.setProperty("connectTimeout", "10");
        try (Connection c = DriverManager.getConnection(control.url(), p)) {
            c.setAutoCommit(false);
            try {
                execute(c, "SELECT pg_advisory_xact_lock(" + NAMESPACE + ", 0)");
                Optional<String> refusal = refusal(c, task);
                if (refusal.isPresent()) {
                    c.rollback();
                    throw new Refused(refusal.get());
                }
                try (PreparedStatement ps = c.prepareStatement("""
                        INSERT INTO pgreshard_task (task_id, source, destination, publication, phase, state)
                        VALUES (?, ?, ?, ?, 'PREFLIGHT', 'RUNNING') ON CONFLICT (task_id) DO NOTHING""")) {
                    ps.setString(1, task.taskId());
                    ps.setString(2, task.source());
                    ps.setString(3, task.destination());
                    ps.setString(4, task.publication());
                    ps.executeUpdate();
                }
                c.commit();
            } catch (SQLException | RuntimeException e) {
                c.rollback();
                throw e;
            }
        }
    }

    private static Optional<String> refusal(Connection c, TaskRef task) throws SQLException {
        String src = task.source();
        String dst = task.destination();
        try (PreparedStatement ps = c.prepareStatement(
                "SELECT source, destination, phase FROM pgreshard_task WHERE task_id = ?")) {
            ps.setString(1, task.taskId());
            try (ResultSet rs = ps.executeQuery()) {
                if (rs.next()) {
                    boolean samePair = rs.getString(1).equals(src) && rs.getString(2).equals(dst);
                    if (!samePair) {
                        return Optional.of("task id '" + task.taskId() + "' is already registered for " + rs.getString(1)
                                + " -> " + rs.getString(2) + " (phase " + rs.getString(3) + "); start this task under "
                                + "another workflow id");
                    }
                    if (FINAL.contains("'" + rs.getString(3) + "'")) {
                        return Optional.of("task id '" + task.taskId() + "' belongs to an earlier task that ended (phase "
                                + rs.getString(3) + "); start this task under a new workflow id");
                    }
                }
            }
        }
        try (PreparedStatement ps = c.prepareStatement("SELECT task_id, source, destination, phase FROM pgreshard_task "
                + "WHERE task_id <> ? AND phase NOT IN " + FINAL + " AND (source IN (?, ?) OR destination IN (?, ?)) "
                + "ORDER BY created_at LIMIT 1")) {
            ps.setString(1, task.taskId());
            ps.setString(2, src);
            ps.setString(3, dst);
            ps.setString(4, src);
            ps.setString(5, dst);
            try (ResultSet rs = ps.executeQuery()) {
                if (rs.next()) {
                    String other = rs.getString(1);
                    String way = "stop it (`pgreshard stop " + other + "`) or wait for it to finish";
                    if (rs.getString(2).equals(src) && rs.getString(3).equals(dst)) {
                        return Optional.of("task " + other + " already reshards " + src + " into " + dst + " (phase "
                                + rs.getString(4) + "); " + way);
                    }
                    String shared = rs.getString(2).equals(src) || rs.getString(3).equals(src) ? src : dst;
                    return Optional.of("cluster '" + shared + "' is in use by task " + other + " (" + rs.getString(2)
                            + " -> " + rs.getString(3) + ", phase " + rs.getString(4) + "); a cluster takes part in one "
                            + "live task at a time: " + way);
                }
            }
        }
        try (PreparedStatement ps = c.prepareStatement(
                "SELECT cluster, epoch, task_id FROM pgreshard_route WHERE database_name = ? AND cluster <> ?")) {
            ps.setString(1, src);
            ps.setString(2, src);
            try (ResultSet rs = ps.executeQuery()) {
                if (rs.next()) {
                    return Optional.of("source database '" + src + "' is routed to cluster '" + rs.getString(1)
                            + "' (epoch " + rs.getLong(2) + ", task " + rs.getString(3) + "): its traffic no longer "
                            + "reaches '" + src + "', whose data is stale; reshard '" + rs.getString(1)
                            + "' instead, or roll that task back first");
                }
            }
        }
        try (PreparedStatement ps = c.prepareStatement(
                "SELECT database_name, task_id FROM pgreshard_route WHERE cluster = ? AND database_name <> ?")) {
            ps.setString(1, dst);
            ps.setString(2, dst);
            try (ResultSet rs = ps.executeQuery()) {
                if (rs.next()) {
                    return Optional.of("destination '" + dst + "' serves database '" + rs.getString(1)
                            + "' (routed there by task " + rs.getString(2) + "); resharding into it would mix two "
                            + "databases: choose another destination");
                }
            }
        }
        return Optional.empty();
    }

    private static void execute(Connection c, String sql) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            ps.execute();
        }
    }
}
