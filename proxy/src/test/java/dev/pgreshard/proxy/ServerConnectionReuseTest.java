package dev.pgreshard.proxy;

import dev.pgreshard.testkit.PostgresExtension;
import dev.pgreshard.testkit.PostgresFixture;
import dev.pgreshard.testkit.TestDatabase;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Properties;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A session's server connection outlives the session, reset, for the next session of the same login
 * (PgBouncer's session mode): the next client gets the same server process with nothing of the first
 * session left (checked on the server: settings, temp tables, prepared statements, advisory locks,
 * LISTENs, role); another role never gets it; a session that ended inside a transaction or mid-request
 * gives nothing back; the idle timeout closes it; timeout 0 (the default) reuses nothing.
 */
@ExtendWith(PostgresExtension.class)
class ServerConnectionReuseTest {
    private static final String OTHER = "reuse_other";
    private static final String OTHER_PW = "other pw";

    private static final ProxyOptions REUSE = ProxyOptions.DEFAULTS.withServerIdleTimeoutMs(60_000);
    private static TestDatabase db;
    private static ProxyFixture proxy;

    @BeforeAll
    static void start() {
        db = PostgresFixture.database("reuse_single");
        db.execute("DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '" + OTHER + "') THEN "
                        + "CREATE ROLE " + OTHER + " LOGIN PASSWORD '" + OTHER_PW + "'; END IF; END $$",
                "CREATE TABLE items (k bigint PRIMARY KEY, v text)", "GRANT SELECT ON items TO " + OTHER);
        proxy = new ProxyFixture().cluster("prod", db).user("prod", OTHER, OTHER_PW).options(REUSE).start();
    }

    @AfterAll
    static void stop() {
        proxy.close();
    }

    @Test
    void theNextSessionGetsTheSameServerProcessWithNothingOfThePreviousSession() throws Exception {
        int first;
        int kept;
        try (Connection c = proxy.connect("prod"); Statement s = c.createStatement()) {
            first = pid(c);
            kept = keptCount();
            s.execute("SET work_mem = '1234kB'");
            s.execute("SET ROLE " + OTHER);
            s.execute("RESET ROLE");
            s.execute("CREATE TEMP TABLE scratch (x int)");
            s.execute("PREPARE left_over AS SELECT 1");
            s.execute("SELECT pg_advisory_lock(4242)");
            s.execute("LISTEN left_over_channel");
            s.execute("SET application_name = 'first session'");
            s.execute("SET ROLE " + OTHER);
        }
        awaitKept(kept + 1);
        try (Connection c = proxy.connect("prod"); Statement s = c.createStatement()) {
            assertEquals(first, pid(c), "the kept server process serves the next session of the same login");
            assertEquals(db.server().superuser(), text(s, "SELECT current_user"), "SET ROLE undone");
            assertEquals("t", text(s, "SELECT setting = reset_val FROM pg_settings WHERE name = 'work_mem'"), "SET undone");
            assertNull(text(s, "SELECT to_regclass('pg_temp.scratch')::text"), "temp table dropped");
            assertEquals("0", text(s, "SELECT count(*) FROM pg_prepared_statements"));
            assertEquals("0", text(s, "SELECT count(*) FROM pg_listening_channels()"));
            assertEquals("0", text(s, "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = 4242"), "advisory lock released");
            assertEquals("PostgreSQL JDBC Driver", text(s, "SHOW application_name"), "the startup value, not the last SET");
            assertEquals("PostgreSQL JDBC Driver", c.getClientInfo("ApplicationName"),
                    "the client was told the reset value in its ParameterStatus");
        }
    }

    @Test
    void anotherRoleNeverGetsTheConnection() throws Exception {
        int superuserPid;
        int kept;
        try (Connection c = proxy.connect("prod")) {
            superuserPid = pid(c);
            kept = keptCount();
        }
        awaitKept(kept + 1);
        try (Connection c = proxy.connect("prod", OTHER, OTHER_PW, new Properties()); Statement s = c.createStatement()) {
            assertNotEquals(superuserPid, pid(c));
            assertEquals(OTHER, text(s, "SELECT current_user"));
            SQLException refused = org.junit.jupiter.api.Assertions.assertThrows(SQLException.class,
                    () -> s.execute("INSERT INTO items VALUES (1, 'x')"));
            assertEquals("42501", refused.getSQLState());
        }
        try (Connection c = proxy.connect("prod")) {
            assertEquals(superuserPid, pid(c), "still kept for its own role");
        }
    }

    @Test
    void aSessionThatEndedInsideATransactionGivesNothingBack() throws Exception {
        int inTransaction;
        try (Connection c = proxy.connect("prod"); Statement s = c.createStatement()) {
            inTransaction = pid(c);
            c.setAutoCommit(false);
            s.execute("INSERT INTO items VALUES (100, 'never committed')");
        }
        assertEquals(0, db.awaitLong("SELECT count(*) FROM pg_stat_activity WHERE pid = " + inTransaction, 0, 10_000),
                "the server process of a session closed inside a transaction is ended, not kept");
        try (Connection c = proxy.connect("prod"); Statement s = c.createStatement()) {
            assertNotEquals(inTransaction, pid(c));
            assertEquals("0", text(s, "SELECT count(*) FROM items WHERE k = 100"), "its transaction rolled back");
        }
    }

    @Test
    void theIdleTimeoutClosesAKeptConnectionAndZeroKeepsNone() throws Exception {
        for (long timeoutMs : new long[] {300, 0}) {
            try (ProxyFixture p = new ProxyFixture().cluster("prod", db)
                    .options(ProxyOptions.DEFAULTS.withServerIdleTimeoutMs(timeoutMs)).start()) {
                int pid;
                try (Connection c = p.connect("prod")) {
                    pid = pid(c);
                }
                assertEquals(0, db.awaitLong("SELECT count(*) FROM pg_stat_activity WHERE pid = " + pid, 0, 10_000),
                        "timeout " + timeoutMs + " ms: the server process is ended");
                try (Connection c = p.connect("prod")) {
                    assertNotEquals(pid, pid(c));
                }
                if (timeoutMs == 0) {
                    assertEquals(0, p.server().context().idleServers().idleCount(), "timeout 0 keeps nothing");
                }
            }
        }
    }

    @Test
    void closingTheProxyEndsTheKeptConnections() throws Exception {
        int pid;
        try (ProxyFixture p = new ProxyFixture().cluster("prod", db).options(REUSE).start()) {
            try (Connection c = p.connect("prod")) {
                pid = pid(c);
            }
            long deadline = System.nanoTime() + 10_000_000_000L;
            while (p.server().context().idleServers().idleCount() == 0 && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
            assertEquals(1, p.server().context().idleServers().idleCount());
            assertEquals(1, db.queryLong("SELECT count(*) FROM pg_stat_activity WHERE pid = " + pid));
        }
        assertEquals(0, db.awaitLong("SELECT count(*) FROM pg_stat_activity WHERE pid = " + pid, 0, 10_000));
    }

    private static int keptCount() {
        return proxy.server().context().idleServers().idleCount();
    }

    /** Waits until the proxy keeps {@code n} connections (the reset runs after the client has gone). */
    private static void awaitKept(int n) throws InterruptedException {
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (keptCount() != n && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertEquals(n, keptCount(), "the ended session's connection is kept");
    }

    private static int pid(Connection c) throws SQLException {
        try (Statement s = c.createStatement()) {
            return Integer.parseInt(text(s, "SELECT pg_backend_pid()"));
        }
    }

    private static String text(Statement s, String sql) throws SQLException {
        try (ResultSet rs = s.executeQuery(sql)) {
            assertTrue(rs.next(), sql);
            String v = rs.getString(1);
            assertFalse(rs.next(), sql);
            return v;
        }
    }
}
