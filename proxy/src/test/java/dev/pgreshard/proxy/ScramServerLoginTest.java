package dev.pgreshard.proxy;

import dev.pgreshard.testkit.PgServer;
import dev.pgreshard.testkit.PostgresFixture;
import dev.pgreshard.testkit.TestDatabase;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.postgresql.util.PSQLException;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The proxy's server logins against a server that demands SCRAM-SHA-256 (the test servers trust local
 * logins otherwise): many logins of one role, each answered from the salted password computed once per
 * password and salt (SaltedPasswords), all succeed; a wrong password is still refused with the server's
 * own error; and after the role's password changes (a new salt on the server), the old password is
 * refused and the new one logs in — nothing stale passes.
 */
class ScramServerLoginTest {
    private static final String ROLE = "scram_login_role";

    /** A server of its own (stopped with the others when the JVM ends): its pg_hba.conf is rewritten here. */
    private static PgServer server;
    private static TestDatabase db;

    @BeforeAll
    static void demandScram() throws Exception {
        server = PostgresFixture.server("scram-login");
        db = server.createDatabase("scram_login");
        db.execute("SET password_encryption = 'scram-sha-256'",
                "DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '" + ROLE + "') THEN CREATE ROLE " + ROLE
                        + " LOGIN; END IF; END $$",
                "ALTER ROLE " + ROLE + " PASSWORD 'first pw'",
                "GRANT ALL ON SCHEMA public TO " + ROLE);
        String hbaFile;
        try (Connection c = server.connect("postgres"); ResultSet rs = c.createStatement().executeQuery("SHOW hba_file")) {
            rs.next();
            hbaFile = rs.getString(1);
        }
        // this role over TCP must use SCRAM; everyone else keeps the fixture's trust
        db.execute("COPY (SELECT * FROM (VALUES ('host all " + ROLE + " 127.0.0.1/32 scram-sha-256'), "
                        + "('host all " + ROLE + " ::1/128 scram-sha-256'), ('host all all 127.0.0.1/32 trust'), "
                        + "('host all all ::1/128 trust'), ('local all all trust')) AS hba(line)) TO '" + hbaFile + "'",
                "SELECT pg_reload_conf()");
        Properties wrong = new Properties();
        wrong.setProperty("user", ROLE);
        wrong.setProperty("password", "not it");
        PSQLException refused = assertThrows(PSQLException.class, () -> DriverManager.getConnection(db.jdbcUrl(), wrong).close());
        assertTrue(refused.getMessage().contains("password authentication failed"), refused.getMessage());
    }

    @Test
    void manyLoginsOfOneRoleShareTheSaltedPasswordAndAStaleOneIsRefused() throws Exception {
        try (ProxyFixture proxy = new ProxyFixture().cluster("prod", db)
                .user("prod", "app_first", "client pw", ROLE, "first pw")
                .user("prod", "app_wrong", "client pw", ROLE, "not it")
                .user("prod", "app_second", "client pw", ROLE, "second pw")
                // every session logs in anew: a kept connection (logged in before the password changed) would be
                // reused for the stale entry, as PgBouncer's would, until its idle timeout
                .options(ProxyOptions.DEFAULTS.withServerIdleTimeoutMs(0)).start()) {
            List<Connection> sessions = new ArrayList<>();
            try {
                for (int i = 0; i < 6; i++) {
                    Connection c = proxy.connect("prod", "app_first", "client pw", new Properties());
                    sessions.add(c);
                    assertEquals(ROLE, currentUser(c), "session " + i);
                }
            } finally {
                for (Connection c : sessions) {
                    c.close();
                }
            }
            SQLException wrong = assertThrows(SQLException.class, () -> currentUser(proxy.connect("prod", "app_wrong", "client pw", new Properties())));
            assertTrue(wrong.getMessage().contains("password authentication failed"), wrong.getMessage());

            db.execute("SET password_encryption = 'scram-sha-256'; ALTER ROLE " + ROLE + " PASSWORD 'second pw'");
            SQLException stale = assertThrows(SQLException.class, () -> currentUser(proxy.connect("prod", "app_first", "client pw", new Properties())));
            assertTrue(stale.getMessage().contains("password authentication failed"), stale.getMessage());
            try (Connection c = proxy.connect("prod", "app_second", "client pw", new Properties())) {
                assertEquals(ROLE, currentUser(c));
            }
        }
    }

    private static String currentUser(Connection c) throws SQLException {
        try (ResultSet rs = c.createStatement().executeQuery("SELECT current_user")) {
            rs.next();
            return rs.getString(1);
        }
    }
}
