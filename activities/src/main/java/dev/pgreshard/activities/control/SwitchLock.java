package dev.pgreshard.activities.control;

import dev.pgreshard.core.config.ControlConfig;
import dev.pgreshard.core.pg.AdvisoryLocks;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Optional;
import java.util.Properties;

/**
 * One traffic switch (cutover or rollback) of a client database at a time, across workers and
 * activity attempts: a session-level advisory lock in the control store, keyed by the database.
 *
 * <p>Why: Temporal retries an attempt it presumes dead (a missed heartbeat), but the old attempt
 * may still be running. Two attempts pausing, undoing and cleaning up beside each other could
 * resume each other's pause, grant writes back on a source the other just fenced, or drop the
 * reverse slots the other just swapped with. Holding this lock for the whole switch makes the
 * later attempt wait for the earlier one to end (it then finds the route already moved, and
 * finishes or refuses accordingly).
 *
 * <p>The lock lives on a connection of its own, outside the store's pool: if the worker dies, the
 * server ends the session and the lock with it; a pooled connection could return to the pool
 * still holding it.
 */
public final class SwitchLock implements AutoCloseable {
    /** First key of the two-int advisory lock: "pgre" (the second is the database's hashtext). */
    private static final int NAMESPACE = 0x70677265;
    private static final long POLL_MS = 200;

    private final Connection connection;

    private SwitchLock(Connection connection) {
        this.connection = connection;
    }

    /**
     * Takes the lock of {@code database}, waiting up to {@code wait} for a holder to finish and
     * calling {@code whileWaiting} about once a second (activity heartbeats). Empty when it is still
     * held after {@code wait}.
     */
    public static Optional<SwitchLock> acquire(ControlConfig control, String database, Duration wait,
                                               Runnable whileWaiting) throws SQLException {
        Properties p = new Properties();
        p.setProperty("user", control.user());
        p.setProperty("password", control.password().reveal());
        p.setProperty("ApplicationName", "pgreshard switch lock " + database);
        p.setProperty("connectTimeout", "10");
        Connection c = DriverManager.getConnection(control.url(), p);
        try {
            long deadline = System.nanoTime() + wait.toNanos();
            long nextBeat = System.nanoTime();
            while (!AdvisoryLocks.tryLock(c, NAMESPACE, database)) {
                if (System.nanoTime() >= deadline) {
                    c.close();
                    return Optional.empty();
                }
                if (System.nanoTime() >= nextBeat) {
                    whileWaiting.run();
                    nextBeat = System.nanoTime() + 1_000_000_000L;
                }
                Thread.sleep(POLL_MS);
            }
            return Optional.of(new SwitchLock(c));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            c.close();
            throw new SQLException("interrupted while waiting for the switch lock of '" + database + "'", e);
        } catch (SQLException | RuntimeException e) {
            c.close();
            throw e;
        }
    }

    /** Releases the lock: ending the session releases every advisory lock it holds. */
    @Override
    public void close() {
        try {
            connection.close();
        } catch (SQLException ignored) {
            // a connection that fails to close is gone, and its session's locks with it
        }
    }
}
