package dev.pgreshard.proxy;

import dev.pgreshard.testkit.PostgresExtension;
import dev.pgreshard.testkit.TestDatabase;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.postgresql.PGConnection;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * BackendKeyData's process id is the server's: PostgreSQL announces the pid that pg_backend_pid() returns, and
 * clients use it (postgres.js's own suite terminates its LISTEN connection with
 * {@code pg_terminate_backend(state.pid)} and expects a reconnect; through the proxy it got "PID n is not a
 * PostgreSQL backend process"). Cancel requests still reach the proxy and are checked against its own key.
 */
@ExtendWith(PostgresExtension.class)
class BackendKeyDataTest {

    @Test
    void theAnnouncedPidIsTheServersThroughOneShard(TestDatabase db) throws Exception {
        try (ProxyFixture proxy = new ProxyFixture().cluster("prod", db).start();
             Connection c = proxy.connect("prod");
             Connection other = proxy.connect("prod")) {
            int announced = c.unwrap(PGConnection.class).getBackendPID();
            assertEquals(queryInt(c, "SELECT pg_backend_pid()"), announced);
            assertTrue(queryInt(other, "SELECT pg_backend_pid()") != announced);

            // a cancel with the announced pid still reaches this session's backend
            try (Statement s = c.createStatement()) {
                Thread canceller = new Thread(() -> {
                    try {
                        Thread.sleep(500);
                        s.cancel();
                    } catch (Exception e) {
                        throw new IllegalStateException(e);
                    }
                });
                canceller.start();
                SQLException e = assertThrows(SQLException.class, () -> s.execute("SELECT pg_sleep(30)"));
                canceller.join();
                assertEquals("57014", e.getSQLState());
            }

            // what postgres.js's test does: terminate the announced pid from another session
            try (Statement s = other.createStatement();
                 ResultSet rs = s.executeQuery("SELECT pg_terminate_backend(" + announced + ")")) {
                rs.next();
                assertTrue(rs.getBoolean(1), "pg_terminate_backend of the announced pid");
            }
            SQLException gone = assertThrows(SQLException.class, () -> queryInt(c, "SELECT 1"));
            assertTrue(gone.getSQLState().startsWith("57P01") || gone.getSQLState().startsWith("08"), gone.getSQLState());
        }
    }

    @Test
    void theAnnouncedPidIsTheLeadShardsThroughSeveralShards(TestDatabase s0, TestDatabase s1) throws Exception {
        s0.execute("CREATE TABLE t (k bigint PRIMARY KEY)");
        s1.execute("CREATE TABLE t (k bigint PRIMARY KEY)");
        try (ProxyFixture proxy = new ProxyFixture().cluster("prod", s0, s1).shardedTable("prod", "t", "k", "bigint").start();
             Connection c = proxy.connect("prod")) {
            int announced = c.unwrap(PGConnection.class).getBackendPID();
            assertEquals(1, s0.queryLong("SELECT count(*) FROM pg_stat_activity WHERE pid = " + announced
                    + " AND datname = current_database()"), "the announced pid is a backend of shard 0");
        }
    }

    private static int queryInt(Connection c, String sql) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getInt(1);
        }
    }
}
