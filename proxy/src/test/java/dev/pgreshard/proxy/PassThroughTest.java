package dev.pgreshard.proxy;

import dev.pgreshard.testkit.PostgresExtension;
import dev.pgreshard.testkit.TestDatabase;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.postgresql.PGConnection;
import org.postgresql.copy.CopyManager;
import org.postgresql.largeobject.LargeObject;
import org.postgresql.largeobject.LargeObjectManager;

import java.io.StringReader;
import java.io.StringWriter;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Properties;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** One shard: the proxy forwards everything; PgJDBC in every query mode sees a normal server. */
@ExtendWith(PostgresExtension.class)
class PassThroughTest {

    @Test
    void jdbcPreparedStatementsBatchesTransactionsAndCopy(TestDatabase db) throws Exception {
        db.execute("CREATE TABLE items (id bigint PRIMARY KEY, name text)");
        try (ProxyFixture proxy = new ProxyFixture().cluster("prod", db).start()) {
            for (String mode : new String[] {"extended", "simple", "extendedForPrepared"}) {
                Properties p = new Properties();
                p.setProperty("preferQueryMode", mode);
                p.setProperty("prepareThreshold", "1");
                try (Connection c = proxy.connect("prod", ProxyFixture.USER, ProxyFixture.PASSWORD, p)) {
                    c.createStatement().execute("TRUNCATE items");
                    try (PreparedStatement ps = c.prepareStatement("INSERT INTO items VALUES (?, ?)")) {
                        for (int i = 1; i <= 50; i++) {
                            ps.setLong(1, i);
                            ps.setString(2, "item " + i);
                            ps.addBatch();
                        }
                        ps.executeBatch();
                    }
                    try (PreparedStatement ps = c.prepareStatement("SELECT name FROM items WHERE id = ?")) {
                        for (int i = 1; i <= 10; i++) { // past prepareThreshold: a named server-side statement
                            ps.setLong(1, i);
                            try (ResultSet rs = ps.executeQuery()) {
                                assertTrue(rs.next());
                                assertEquals("item " + i, rs.getString(1));
                            }
                        }
                    }
                    c.setAutoCommit(false);
                    c.createStatement().execute("DELETE FROM items WHERE id > 40");
                    c.rollback();
                    c.setAutoCommit(true);
                    assertEquals(50, count(c, "SELECT count(*) FROM items"), mode);
                    // errors leave the session usable (recovery to the next Sync / ReadyForQuery)
                    SQLException e = assertThrows(SQLException.class, () -> c.createStatement().execute("SELECT * FROM nope"));
                    assertEquals("42P01", e.getSQLState());
                    assertEquals(50, count(c, "SELECT count(*) FROM items"), mode);
                }
            }
            try (Connection c = proxy.connect("prod")) {
                CopyManager copy = c.unwrap(PGConnection.class).getCopyAPI();
                c.createStatement().execute("TRUNCATE items");
                long in = copy.copyIn("COPY items FROM STDIN", new StringReader("1\tone\n2\ttwo\n3\tthree\n"));
                assertEquals(3, in);
                StringWriter out = new StringWriter();
                long n = copy.copyOut("COPY (SELECT * FROM items ORDER BY id) TO STDOUT", out);
                assertEquals(3, n);
                assertEquals("1\tone\n2\ttwo\n3\tthree\n", out.toString());
            }
            assertEquals(3, db.queryLong("SELECT count(*) FROM items"));
        }
    }

    @Test
    void fastPathFunctionCallsEndTheirRequestSoAPauseStillDrains(TestDatabase db) throws Exception {
        // PgJDBC's large-object API calls lo_creat/lo_open/lowrite by FunctionCall ('F'), each answered up to
        // its own ReadyForQuery: a request like a Query, or the session never looks idle to the pause again
        try (ProxyFixture proxy = new ProxyFixture().cluster("prod", db).start(); Connection c = proxy.connect("prod")) {
            c.setAutoCommit(false);
            LargeObjectManager lom = c.unwrap(PGConnection.class).getLargeObjectAPI();
            long oid = lom.createLO();
            try (LargeObject lo = lom.open(oid, LargeObjectManager.WRITE)) {
                lo.write("hello".getBytes(java.nio.charset.StandardCharsets.UTF_8));
            }
            c.commit();
            ProxyControl control = proxy.server().control();
            try {
                control.pause("prod", 10_000);
                ProxyControl.PauseAck ack = control.awaitDrained("prod", Duration.ofSeconds(5));
                assertEquals(0, ack.inFlight(), "the pause did not drain: " + proxy.server().context().sessions().describeBusy("prod"));
            } finally {
                control.resume("prod");
            }
            try (LargeObject lo = lom.open(oid, LargeObjectManager.READ)) {
                assertEquals("hello", new String(lo.read(5), java.nio.charset.StandardCharsets.UTF_8));
            }
            c.commit();
        }
    }

    @Test
    void wrongPasswordUnknownUserAndUnknownDatabaseGetPostgresErrorCodes(TestDatabase db) throws Exception {
        try (ProxyFixture proxy = new ProxyFixture().cluster("prod", db).start()) {
            SQLException wrong = assertThrows(SQLException.class,
                    () -> proxy.connect("prod", ProxyFixture.USER, "nope", new Properties()));
            assertEquals("28P01", wrong.getSQLState());
            SQLException unknownUser = assertThrows(SQLException.class,
                    () -> proxy.connect("prod", "mallory", ProxyFixture.PASSWORD, new Properties()));
            assertEquals("28P01", unknownUser.getSQLState());
            SQLException unknownDb = assertThrows(SQLException.class,
                    () -> proxy.connect("nodb", ProxyFixture.USER, ProxyFixture.PASSWORD, new Properties()));
            assertEquals("3D000", unknownDb.getSQLState());
            try (Connection c = proxy.connect("prod")) {
                assertEquals(1, count(c, "SELECT 1"));
            }
        }
    }

    @Test
    void md5AuthenticationWhenConfigured(TestDatabase db) throws Exception {
        try (ProxyFixture proxy = new ProxyFixture().cluster("prod", db)
                .options(ProxyOptions.DEFAULTS.withAuthMethod(dev.pgreshard.proxy.auth.AuthMethod.MD5)).start()) {
            try (Connection c = proxy.connect("prod")) {
                assertEquals(1, count(c, "SELECT 1"));
            }
            SQLException wrong = assertThrows(SQLException.class,
                    () -> proxy.connect("prod", ProxyFixture.USER, "nope", new Properties()));
            assertEquals("28P01", wrong.getSQLState());
        }
    }

    @Test
    void cancelRequestReachesTheBackend(TestDatabase db) throws Exception {
        try (ProxyFixture proxy = new ProxyFixture().cluster("prod", db).start();
             Connection c = proxy.connect("prod");
             Statement s = c.createStatement()) {
            long start = System.nanoTime();
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
            assertTrue(System.nanoTime() - start < 20_000_000_000L);
            assertEquals(1, count(c, "SELECT 1"));
        }
    }

    @Test
    void encryptionRequestsAreAnsweredNoWithoutACertificate(TestDatabase db) throws Exception {
        try (ProxyFixture proxy = new ProxyFixture().cluster("prod", db)
                .options(ProxyOptions.DEFAULTS.withAuthMethod(dev.pgreshard.proxy.auth.AuthMethod.MD5)).start();
             RawClient raw = new RawClient(proxy.port())) {
            raw.out.writeInt(8);
            raw.out.writeInt(80877104); // GSSENCRequest
            raw.out.flush();
            assertEquals('N', raw.in.readByte());
            raw.out.writeInt(8);
            raw.out.writeInt(80877103); // SSLRequest
            raw.out.flush();
            assertEquals('N', raw.in.readByte());
            raw.loginMd5(ProxyFixture.USER, "prod", ProxyFixture.PASSWORD); // the same connection goes on in clear
            raw.query("SELECT 1");
            assertEquals(0, raw.readUntilReady());
        }
    }

    @Test
    void unreachableOrMissingServersGiveTheClientAClearError(TestDatabase db) throws Exception {
        dev.pgreshard.testkit.PgServer real = db.server();
        int closedPort = dev.pgreshard.testkit.FreePorts.next();
        dev.pgreshard.testkit.PgServer down = new dev.pgreshard.testkit.PgServer() {
            public String host() { return "127.0.0.1"; }
            public int port() { return closedPort; }
            public String superuser() { return real.superuser(); }
            public String password() { return real.password(); }
            public int majorVersion() { return real.majorVersion(); }
            public void restart() { }
            public void close() { }
        };
        try (ProxyFixture proxy = new ProxyFixture().cluster("prod", db).cluster("down", new TestDatabase(down, "app"))
                .cluster("gone", new TestDatabase(real, "no_such_database")).start()) {
            SQLException refused = assertThrows(SQLException.class, () -> proxy.connect("down"));
            assertEquals("08001", refused.getSQLState());
            assertTrue(refused.getMessage().contains("cannot connect to down shard 0"), refused.getMessage());
            SQLException gone = assertThrows(SQLException.class, () -> proxy.connect("gone"));
            assertEquals("3D000", gone.getSQLState());
            try (Connection c = proxy.connect("prod")) {
                assertEquals(1, count(c, "SELECT 1"));
            }
        }
    }

    static long count(Connection c, String sql) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }
}
