package dev.pgreshard.proxy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.pgreshard.testkit.PostgresExtension;
import dev.pgreshard.testkit.TestDatabase;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.net.http.HttpResponse;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.Properties;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The warm switch (POST /routing/prepare before the pause): sessions move at the swap onto connections
 * opened, logged in and prepared beforehand, checked on the servers themselves (when each backend
 * started, when each statement was prepared, which connections are left).
 */
@ExtendWith(PostgresExtension.class)
class WarmSwitchTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String INSERT = "INSERT INTO orders (id, note) VALUES ($1,$2)";
    private static final String COUNT = "SELECT count(*) FROM orders WHERE id > $1";

    @Test
    void aSessionMovesOntoConnectionsPreparedBeforeThePauseWithItsStatementsAndSettings(TestDatabase source, TestDatabase target)
            throws Exception {
        for (TestDatabase d : new TestDatabase[] {source, target}) {
            d.execute("CREATE TABLE orders (id bigint PRIMARY KEY, note text)");
        }
        try (ProxyFixture proxy = new ProxyFixture().cluster("prod", source).cluster("prod_new", target).start()) {
            ControlClient control = new ControlClient(proxy.controlPort(), ProxyFixture.ADMIN_USER, ProxyFixture.ADMIN_PASSWORD);
            Properties p = new Properties();
            p.setProperty("prepareThreshold", "1");
            try (Connection c = proxy.connect("prod", ProxyFixture.USER, ProxyFixture.PASSWORD, p);
                 Connection idle = proxy.connect("prod");
                 PreparedStatement ins = c.prepareStatement(INSERT.replace("$1,$2", "?,?"));
                 PreparedStatement count = c.prepareStatement(COUNT.replace("$1", "?"))) {
                c.setAutoCommit(false);
                insert(ins, 1, "before");
                assertEquals(1, count(count, 0));
                c.commit();
                try (Statement st = c.createStatement()) {
                    st.execute("SET application_name = 'warm client'");
                    st.execute("SET statement_timeout = '41s'");
                }
                c.commit();
                idle.createStatement().execute("SELECT 1");
                java.sql.Array before;
                try (Statement st = c.createStatement();
                     ResultSet rs = st.executeQuery("SELECT array_agg(name) FROM pg_prepared_statements WHERE NOT from_sql")) {
                    rs.next();
                    before = rs.getArray(1); // the client's statements on the old server
                }
                c.commit();

                JsonNode prepared = JSON.readTree(call(control, "/routing/prepare?database=prod&cluster=prod_new&epoch=1").body());
                assertEquals(0, prepared.get("problems").size(), prepared.toString());
                assertEquals(2, prepared.get("sessions").asInt(), prepared.toString());
                // the client's session, as it will be after the swap, exists on the new cluster before any pause
                assertEquals(1, target.queryLong("SELECT count(*) FROM pg_stat_activity WHERE application_name = 'warm client' AND datname = current_database()"));
                double beforePause = epoch(target);

                call(control, "/pause?database=prod&wait_ms=2000");
                JsonNode swapped = JSON.readTree(call(control, "/routing/swap?database=prod&cluster=prod_new&epoch=1&resume=true").body());
                assertEquals(1, swapped.get("epoch").asInt(), swapped.toString());
                assertFalse(swapped.get("paused").asBoolean(), "swapped and resumed in one call: " + swapped);

                // the first transaction after the swap: the same prepared statements, on the new server
                insert(ins, 2, "after");
                assertEquals(1, count(count, 1));
                c.commit();
                try (Statement st = c.createStatement()) {
                    assertEquals("warm client", show(st, "application_name"));
                    assertEquals("41s", show(st, "statement_timeout"));
                    // this backend was opened, and every statement the client uses here prepared, before the pause
                    try (ResultSet rs = st.executeQuery("SELECT extract(epoch FROM backend_start)::float8 FROM pg_stat_activity "
                            + "WHERE pid = pg_backend_pid()")) {
                        rs.next();
                        assertTrue(rs.getDouble(1) < beforePause, "backend started at " + rs.getDouble(1) + ", pause at " + beforePause);
                    }
                    // the statements of the first transaction after the swap (the INSERT and the count) were prepared on
                    // this server before the pause, and only then: that transaction sent no Parse
                    try (PreparedStatement q = c.prepareStatement("SELECT count(*), count(*) FILTER (WHERE extract(epoch FROM "
                            + "prepare_time) < ?) FROM pg_prepared_statements WHERE statement IN (?, ?)")) {
                        q.setDouble(1, beforePause);
                        q.setString(2, INSERT);
                        q.setString(3, COUNT);
                        try (ResultSet rs = q.executeQuery()) {
                            rs.next();
                            if (rs.getLong(1) != 2 || rs.getLong(2) != 2) {
                                throw new AssertionError("the first transaction's 2 statements must be prepared once, before the pause; "
                                        + rs.getLong(1) + " found, " + rs.getLong(2) + " before the pause: " + statements(st, beforePause)
                                        + "\nthe client had on the old server: " + java.util.Arrays.toString((Object[]) before.getArray()));
                            }
                        }
                    }
                }
                c.commit();
                // the idle session moved at the swap: nothing of the proxy's is left on the old server
                awaitConnections(source, 0);
                idle.createStatement().execute("SELECT 1");
                assertEquals(1, target.queryLong("SELECT count(*) FROM orders"));
                assertEquals(1, source.queryLong("SELECT count(*) FROM orders"));
            }
            awaitConnections(target, 0);
        }
    }

    @Test
    void fromOneShardToTwoTheSessionTakesEveryShardsConnectionReady(TestDatabase source, TestDatabase shard0,
                                                                     TestDatabase shard1) throws Exception {
        for (TestDatabase d : new TestDatabase[] {source, shard0, shard1}) {
            d.execute("CREATE TABLE orders (customer_id bigint NOT NULL, note text)");
        }
        try (ProxyFixture proxy = new ProxyFixture().cluster("prod", source).cluster("prod_sharded", shard0, shard1)
                .shardedTable("prod_sharded", "orders", "customer_id", "bigint").start()) {
            ControlClient control = new ControlClient(proxy.controlPort(), ProxyFixture.ADMIN_USER, ProxyFixture.ADMIN_PASSWORD);
            Properties p = new Properties();
            p.setProperty("prepareThreshold", "1");
            try (Connection c = proxy.connect("prod", ProxyFixture.USER, ProxyFixture.PASSWORD, p);
                 PreparedStatement ins = c.prepareStatement("INSERT INTO orders (customer_id, note) VALUES (?, ?)")) {
                insert(ins, 1, "before");
                try (Statement st = c.createStatement()) {
                    st.execute("SET application_name = 'sharded warm'");
                }
                JsonNode prepared = JSON.readTree(call(control, "/routing/prepare?database=prod&cluster=prod_sharded&epoch=1").body());
                assertEquals(0, prepared.get("problems").size(), prepared.toString());
                assertEquals(2, prepared.get("connections").asInt(), prepared.toString());
                // prepared after the warm-up: re-prepared on the shards at first use, like any new statement
                PreparedStatement late = c.prepareStatement("SELECT count(*) FROM orders WHERE customer_id = ?");
                late.setLong(1, 1);
                late.executeQuery().close();
                double beforePause = epoch(shard0);
                call(control, "/pause?database=prod&wait_ms=2000");
                call(control, "/routing/swap?database=prod&cluster=prod_sharded&epoch=1");
                call(control, "/resume?database=prod");
                for (int i = 1; i <= 20; i++) {
                    insert(ins, i, "after");
                }
                late.setLong(1, 7);
                try (ResultSet rs = late.executeQuery()) {
                    rs.next();
                    assertEquals(1, rs.getLong(1));
                }
                try (Statement st = c.createStatement()) {
                    assertEquals("sharded warm", show(st, "application_name"));
                }
                for (TestDatabase shard : new TestDatabase[] {shard0, shard1}) {
                    assertEquals(1, shard.queryLong("SELECT count(*) FROM pg_stat_activity WHERE application_name = 'sharded warm' AND datname = current_database() "
                            + "AND extract(epoch FROM backend_start) < " + beforePause), "the session's connection to " + shard.name()
                            + " was opened before the pause");
                }
                ShardedRoutingTest.assertPlacement(shard0, shard1, 20);
                awaitConnections(source, 0);
                // and back (a rollback), warm too
                JsonNode back = JSON.readTree(call(control, "/routing/prepare?database=prod&cluster=prod&epoch=2").body());
                assertEquals(0, back.get("problems").size(), back.toString());
                call(control, "/routing/swap?database=prod&cluster=prod&epoch=2");
                insert(ins, 99, "rolled back");
                awaitConnections(shard0, 0);
                awaitConnections(shard1, 0);
                try (Statement st = c.createStatement()) {
                    assertEquals("sharded warm", show(st, "application_name"));
                }
            }
            assertEquals(2, source.queryLong("SELECT count(*) FROM orders"));
        }
    }

    @Test
    void aShardRefusingConnectionsEndsThePreparationAndLeavesNothingOpen(TestDatabase source, TestDatabase shard0)
            throws Exception {
        // the second shard names a database that does not exist: its server refuses the login
        TestDatabase refusing = new TestDatabase(shard0.server(), "no_such_database");
        try (ProxyFixture proxy = new ProxyFixture().cluster("prod", source).cluster("broken", shard0, refusing)
                .shardedTable("broken", "orders", "customer_id", "bigint").start()) {
            ControlClient control = new ControlClient(proxy.controlPort(), ProxyFixture.ADMIN_USER, ProxyFixture.ADMIN_PASSWORD);
            try (Connection c = proxy.connect("prod")) {
                c.createStatement().execute("SELECT 1");
                HttpResponse<String> answer = call(control, "/routing/prepare?database=prod&cluster=broken&epoch=1");
                JsonNode prepared = JSON.readTree(answer.body());
                assertEquals(1, prepared.get("problems").size(), prepared.toString());
                assertTrue(prepared.get("problems").get(0).asText().contains("no_such_database"), prepared.toString());
                assertFalse(JSON.readTree(call(control, "/status?database=prod").body()).get("paused").asBoolean());
                awaitConnections(shard0, 0); // the good shard's connection was closed again
                c.createStatement().execute("SELECT 1"); // the client never noticed
                assertEquals(400, call(control, "/routing/prepare?database=prod&cluster=nope&epoch=1").statusCode());

                // prepared, then given up (an attempt aborted): discard closes what was opened
                JsonNode ok = JSON.readTree(call(control, "/routing/prepare?database=prod&cluster=prod&epoch=1").body());
                assertEquals(0, ok.get("problems").size(), ok.toString());
                assertEquals(2, connections(source));
                call(control, "/routing/discard?database=prod");
                awaitConnections(source, 1);
                // and with a short time to live, nothing stays open either
                call(control, "/routing/prepare?database=prod&cluster=prod&epoch=1&ttl_ms=200");
                awaitConnections(source, 1);
                c.createStatement().execute("SELECT 1");
                // a session that ends takes the connections prepared for it along
                call(control, "/routing/prepare?database=prod&cluster=prod&epoch=1");
                assertEquals(2, connections(source));
            }
            awaitConnections(source, 0);
        }
    }

    private static String statements(Statement st, double since) throws Exception {
        StringBuilder all = new StringBuilder();
        try (ResultSet rs = st.executeQuery("SELECT name, statement, extract(epoch FROM prepare_time) FROM pg_prepared_statements")) {
            while (rs.next()) {
                all.append("\n  ").append(rs.getString(1)).append(" | ").append(rs.getString(2)).append(" | prepared ")
                        .append(String.format(java.util.Locale.ROOT, "%+.3f s", rs.getDouble(3) - since)).append(" from the pause");
            }
        }
        return all.toString();
    }

    /** Seven sessions are prepared a few at a time (two at once, in four waves), every one of them before the pause. */
    @Test
    void manySessionsArePreparedInWavesAllBeforeThePause(TestDatabase source, TestDatabase target) throws Exception {
        for (TestDatabase d : new TestDatabase[] {source, target}) {
            d.execute("CREATE TABLE orders (id bigint PRIMARY KEY, note text)");
        }
        try (ProxyFixture proxy = new ProxyFixture().cluster("prod", source).cluster("prod_new", target).start()) {
            ControlClient control = new ControlClient(proxy.controlPort(), ProxyFixture.ADMIN_USER, ProxyFixture.ADMIN_PASSWORD);
            java.util.List<Connection> sessions = new java.util.ArrayList<>();
            try {
                for (int i = 0; i < 7; i++) {
                    Connection c = proxy.connect("prod");
                    sessions.add(c);
                    c.createStatement().execute("INSERT INTO orders VALUES (" + i + ", 'before')");
                }
                JsonNode prepared = JSON.readTree(call(control, "/routing/prepare?database=prod&cluster=prod_new&epoch=1").body());
                assertEquals(0, prepared.get("problems").size(), prepared.toString());
                assertEquals(7, prepared.get("sessions").asInt(), prepared.toString());
                assertEquals(7, connections(target), "every session's connection is open on the new cluster when prepare answers");

                call(control, "/pause?database=prod&wait_ms=2000");
                call(control, "/routing/swap?database=prod&cluster=prod_new&epoch=1&resume=true");
                for (Connection c : sessions) {
                    c.createStatement().execute("SELECT 1");
                }
                awaitConnections(source, 0);
                assertEquals(7, connections(target), "the sessions moved onto the prepared connections, none opened another");
            } finally {
                for (Connection c : sessions) {
                    c.close();
                }
            }
        }
    }

    private static HttpResponse<String> call(ControlClient control, String path) throws Exception {
        HttpResponse<String> r = control.call(path.startsWith("/status") ? "GET" : "POST", path);
        if (r.statusCode() != 200 && r.statusCode() != 400) {
            throw new AssertionError(path + ": " + r.statusCode() + " " + r.body());
        }
        return r;
    }

    private static void insert(PreparedStatement ins, long id, String note) throws Exception {
        ins.setLong(1, id);
        ins.setString(2, note);
        ins.executeUpdate();
    }

    private static long count(PreparedStatement count, long above) throws Exception {
        count.setLong(1, above);
        try (ResultSet rs = count.executeQuery()) {
            rs.next();
            return rs.getLong(1);
        }
    }

    private static String show(Statement st, String name) throws Exception {
        try (ResultSet rs = st.executeQuery("SHOW " + name)) {
            rs.next();
            return rs.getString(1);
        }
    }

    /** The server's clock now, in seconds since 1970 (compared with its own timestamps, never the JVM's). */
    private static double epoch(TestDatabase db) throws Exception {
        try (Connection c = db.connect(); ResultSet rs = c.createStatement().executeQuery("SELECT extract(epoch FROM clock_timestamp())::float8")) {
            rs.next();
            return rs.getDouble(1);
        }
    }

    /** Client backends connected to {@code db} (the test's own query excluded). */
    private static long connections(TestDatabase db) {
        return db.queryLong("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                + "AND pid <> pg_backend_pid() AND backend_type = 'client backend'");
    }

    private static void awaitConnections(TestDatabase db, long expected) throws InterruptedException {
        long deadline = System.currentTimeMillis() + 5000;
        while (connections(db) != expected && System.currentTimeMillis() < deadline) {
            Thread.sleep(50);
        }
        assertEquals(expected, connections(db), "connections to " + db.name());
    }
}
