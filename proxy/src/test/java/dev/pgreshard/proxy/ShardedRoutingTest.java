package dev.pgreshard.proxy;

import dev.pgreshard.core.sharding.ShardFunction;
import dev.pgreshard.core.sharding.ShardKeyType;
import dev.pgreshard.testkit.PostgresExtension;
import dev.pgreshard.testkit.TestDatabase;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.postgresql.PGConnection;

import java.io.StringReader;
import java.io.StringWriter;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.Properties;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Two shards (two databases): rows land where the sharding function says, reads fan out, bad writes are refused. */
@ExtendWith(PostgresExtension.class)
class ShardedRoutingTest {
    private static final ShardFunction F = new ShardFunction(ShardKeyType.BIGINT, 2);

    static ProxyFixture twoShards(TestDatabase s0, TestDatabase s1) {
        return new ProxyFixture().cluster("prod", s0, s1).shardedTable("prod", "orders", "customer_id", "bigint");
    }

    static void assertPlacement(TestDatabase s0, TestDatabase s1, long expectedTotal) {
        long total = 0;
        TestDatabase[] shards = {s0, s1};
        for (int i = 0; i < 2; i++) {
            for (List<String> row : shards[i].queryRows("SELECT customer_id FROM orders")) {
                assertEquals(i, F.shardOf(Long.parseLong(row.get(0))), "customer " + row.get(0) + " on shard " + i);
                total++;
            }
        }
        assertEquals(expectedTotal, total);
    }

    @Test
    void rowsLandOnTheirShardsInEveryQueryMode(TestDatabase s0, TestDatabase s1) throws Exception {
        try (ProxyFixture proxy = twoShards(s0, s1).start()) {
            try (Connection c = proxy.connect("prod"); Statement st = c.createStatement()) {
                // DDL goes to every shard
                st.execute("CREATE TABLE orders (id serial, customer_id bigint NOT NULL, note text)");
                st.execute("CREATE TABLE countries (code text PRIMARY KEY, name text)");
            }
            assertEquals(0, s1.queryLong("SELECT count(*) FROM orders"));
            long expected = 0;
            for (String mode : new String[] {"extended", "simple", "extendedForPrepared"}) {
                Properties p = new Properties();
                p.setProperty("preferQueryMode", mode);
                p.setProperty("prepareThreshold", "1");
                try (Connection c = proxy.connect("prod", ProxyFixture.USER, ProxyFixture.PASSWORD, p)) {
                    try (PreparedStatement ps = c.prepareStatement("INSERT INTO orders (customer_id, note) VALUES (?, ?)")) {
                        for (int i = 1; i <= 20; i++) {
                            ps.setLong(1, i);
                            ps.setString(2, mode);
                            assertEquals(1, ps.executeUpdate());
                        }
                        for (int i = 21; i <= 40; i++) {
                            ps.setLong(1, i);
                            ps.setString(2, mode + " batch");
                            ps.addBatch();
                        }
                        ps.executeBatch();
                    }
                    expected += 40;
                    try (PreparedStatement ps = c.prepareStatement("SELECT count(*) FROM orders WHERE customer_id = ? AND note = ?")) {
                        for (int i = 1; i <= 40; i += 7) { // alternating shards with one named statement
                            ps.setLong(1, i);
                            ps.setString(2, i <= 20 ? mode : mode + " batch");
                            try (ResultSet rs = ps.executeQuery()) {
                                assertTrue(rs.next());
                                assertEquals(1, rs.getLong(1), "customer " + i + " in mode " + mode);
                                assertTrue(!rs.next(), "a keyed read answers from one shard");
                            }
                        }
                    }
                    // keyless read: rows of both shards, one result set
                    assertEquals(expected, countRows(c, "SELECT customer_id FROM orders"));
                    // keyless update: counts summed over shards
                    try (Statement st = c.createStatement()) {
                        assertEquals(expected, st.executeUpdate("UPDATE orders SET note = note"));
                    }
                }
            }
            assertPlacement(s0, s1, expected);
            try (Connection c = proxy.connect("prod"); Statement st = c.createStatement()) {
                // multi-row INSERT with literals is split by shard
                assertEquals(6, st.executeUpdate("INSERT INTO orders (customer_id, note) VALUES (101, 'm'), (102, 'm'), "
                        + "(103, 'm'), (104, 'm'), (105, 'm'), (106, 'm')"));
                expected += 6;
                // omnisharded table: written on every shard, read from one
                st.executeUpdate("INSERT INTO countries (code, name) VALUES ('fr', 'France')");
                assertEquals(1, countRows(c, "SELECT * FROM countries"));
                assertEquals(1, s0.queryLong("SELECT count(*) FROM countries"));
                assertEquals(1, s1.queryLong("SELECT count(*) FROM countries"));
                assertEquals(1, st.executeUpdate("UPDATE countries SET name = 'République française'"));
                // refused statements keep the session usable
                SQLException noKey = assertThrows(SQLException.class, () -> st.executeUpdate("INSERT INTO orders (note) VALUES ('x')"));
                assertEquals("0A000", noKey.getSQLState());
                SQLException noColumns = assertThrows(SQLException.class, () -> st.executeUpdate("INSERT INTO orders VALUES (1, 1, 'x')"));
                assertEquals("0A000", noColumns.getSQLState());
                assertEquals(expected, countRows(c, "SELECT * FROM orders"));
            }
            assertPlacement(s0, s1, expected);
        }
    }

    @Test
    void transactionsStayOnOneShard(TestDatabase s0, TestDatabase s1) throws Exception {
        for (TestDatabase s : new TestDatabase[] {s0, s1}) {
            s.execute("CREATE TABLE orders (customer_id bigint NOT NULL, note text)");
        }
        long a = 1;
        long b = 2;
        while (F.shardOf(b) == F.shardOf(a)) {
            b++;
        }
        long sameAsA = b + 1;
        while (F.shardOf(sameAsA) != F.shardOf(a)) {
            sameAsA++;
        }
        try (ProxyFixture proxy = twoShards(s0, s1).start(); Connection c = proxy.connect("prod")) {
            c.setAutoCommit(false);
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO orders (customer_id, note) VALUES (?, 'tx')")) {
                ps.setLong(1, a);
                ps.executeUpdate();
                ps.setLong(1, sameAsA);
                ps.executeUpdate();
                assertEquals(2, countRows(c, "SELECT * FROM orders")); // reads fan out inside the transaction
                c.commit();
                ps.setLong(1, a);
                ps.executeUpdate();
                ps.setLong(1, b);
                SQLException spans = assertThrows(SQLException.class, ps::executeUpdate);
                assertEquals("0A000", spans.getSQLState());
                assertTrue(spans.getMessage().contains("more than one shard"), spans.getMessage());
                SQLException aborted = assertThrows(SQLException.class, () -> countRows(c, "SELECT * FROM orders"));
                assertEquals("25P02", aborted.getSQLState());
                c.rollback();
            }
            c.setAutoCommit(true);
            assertEquals(2, countRows(c, "SELECT * FROM orders"));
        }
        assertPlacement(s0, s1, 2);
    }

    @Test
    void aBatchForOneShardIsOneImplicitTransactionThere(TestDatabase s0, TestDatabase s1) throws Exception {
        for (TestDatabase s : new TestDatabase[] {s0, s1}) {
            s.execute("CREATE TABLE orders (customer_id bigint PRIMARY KEY, note text)");
        }
        List<Long> sameShard = new java.util.ArrayList<>();
        for (long k = 1; sameShard.size() < 3; k++) {
            if (F.shardOf(k) == 1) {
                sameShard.add(k);
            }
        }
        try (ProxyFixture proxy = twoShards(s0, s1).start(); Connection c = proxy.connect("prod");
             PreparedStatement ps = c.prepareStatement("INSERT INTO orders (customer_id, note) VALUES (?, 'b')")) {
            for (long k : List.of(sameShard.get(0), sameShard.get(1), sameShard.get(2), sameShard.get(0))) {
                ps.setLong(1, k);
                ps.addBatch();
            }
            SQLException dup = assertThrows(SQLException.class, ps::executeBatch);
            assertEquals("23505", dup.getSQLState());
            assertEquals(0, s1.queryLong("SELECT count(*) FROM orders"), "the failed batch left nothing behind");
            ps.clearBatch();
            for (long k : sameShard) {
                ps.setLong(1, k);
                ps.addBatch();
            }
            assertEquals(3, ps.executeBatch().length);
        }
        assertPlacement(s0, s1, 3);
    }

    @Test
    void largeFanOutsStreamAndMergedAnswersHaveACap(TestDatabase s0, TestDatabase s1) throws Exception {
        for (TestDatabase s : new TestDatabase[] {s0, s1}) {
            s.execute("CREATE TABLE orders (customer_id bigint NOT NULL, note text)",
                    "INSERT INTO orders SELECT g, repeat('x', 100) FROM generate_series(1, 2000) g");
        }
        Properties simple = new Properties();
        simple.setProperty("preferQueryMode", "simple");
        try (ProxyFixture proxy = twoShards(s0, s1).options(ProxyOptions.DEFAULTS.withMaxFanOutBytes(64 * 1024)).start();
             Connection c = proxy.connect("prod");
             Connection s = proxy.connect("prod", ProxyFixture.USER, ProxyFixture.PASSWORD, simple)) {
            // one statement streams, whatever its size
            assertEquals(4000, countRows(c, "SELECT * FROM orders"));
            assertEquals(4000, countRows(s, "SELECT * FROM orders"));
            // several statements in one Query are merged in memory, up to the cap
            SQLException big = assertThrows(SQLException.class, () -> countRows(s, "SELECT 1; SELECT * FROM orders"));
            assertEquals("54000", big.getSQLState());
            assertEquals(4000, countRows(s, "SELECT * FROM orders"));
            assertEquals(2, countRows(c, "SELECT count(*) FROM orders")); // small fan-outs still work
            assertEquals(1, countRows(c, "SELECT * FROM orders WHERE customer_id = 5"));
        }
    }

    @Test
    void cancelReachesEveryShardOfAFanOut(TestDatabase s0, TestDatabase s1) throws Exception {
        for (TestDatabase s : new TestDatabase[] {s0, s1}) {
            s.execute("CREATE TABLE orders (customer_id bigint NOT NULL, note text)", "INSERT INTO orders VALUES (1, 'x')");
        }
        try (ProxyFixture proxy = twoShards(s0, s1).start(); Connection c = proxy.connect("prod"); Statement st = c.createStatement()) {
            Thread canceller = new Thread(() -> {
                try {
                    Thread.sleep(500);
                    st.cancel();
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            long start = System.nanoTime();
            canceller.start();
            SQLException e = assertThrows(SQLException.class, () -> st.executeQuery("SELECT pg_sleep(30) FROM orders"));
            canceller.join();
            assertEquals("57014", e.getSQLState());
            assertTrue(System.nanoTime() - start < 20_000_000_000L, "both shards were cancelled");
            assertEquals(2, countRows(c, "SELECT * FROM orders"));
        }
    }

    @Test
    void copyInIsSplitByShardAndCopyOutFansOut(TestDatabase s0, TestDatabase s1) throws Exception {
        for (TestDatabase s : new TestDatabase[] {s0, s1}) {
            s.execute("CREATE TABLE orders (customer_id bigint NOT NULL, note text)");
        }
        try (ProxyFixture proxy = twoShards(s0, s1).start(); Connection c = proxy.connect("prod")) {
            var copy = c.unwrap(PGConnection.class).getCopyAPI();
            StringBuilder rows = new StringBuilder();
            for (int i = 1; i <= 500; i++) {
                rows.append(i).append("\tnote ").append(i).append('\n');
            }
            assertEquals(500, copy.copyIn("COPY orders (customer_id, note) FROM STDIN", new StringReader(rows.toString())));
            StringBuilder csv = new StringBuilder("customer_id,note\n");
            for (int i = 501; i <= 600; i++) {
                csv.append(i).append(",\"a, \"\"quoted\"\"\nnote\"\n");
            }
            assertEquals(100, copy.copyIn("COPY orders (customer_id, note) FROM STDIN WITH (FORMAT csv, HEADER true)",
                    new StringReader(csv.toString())));
            StringWriter out = new StringWriter();
            assertEquals(600, copy.copyOut("COPY orders TO STDOUT", out));
            assertEquals(600, out.toString().lines().filter(l -> l.contains("note")).count());
            SQLException noColumns = assertThrows(SQLException.class,
                    () -> copy.copyIn("COPY orders FROM STDIN", new StringReader("1\tx\n")));
            assertEquals("0A000", noColumns.getSQLState());
            // a COPY one shard refuses (its table is missing there) ends with that error, not a hang
            s0.execute("CREATE TABLE only_on_shard0 (id int)");
            SQLException missing = assertThrows(SQLException.class,
                    () -> copy.copyIn("COPY only_on_shard0 (id) FROM STDIN", new StringReader("1\n2\n")));
            assertEquals("42P01", missing.getSQLState());
            assertEquals(0, s0.queryLong("SELECT count(*) FROM only_on_shard0"));
            assertEquals(600, countRows(c, "SELECT * FROM orders"));
        }
        assertPlacement(s0, s1, 600);
    }

    @Test
    void psqlAndPgbenchThroughTwoShards(TestDatabase s0, TestDatabase s1) throws Exception {
        try (ProxyFixture proxy = new ProxyFixture().cluster("prod", s0, s1)
                .shardedTable("prod", "pgbench_accounts", "aid", "integer").start()) {
            // each shard gets the full pgbench data set directly; the proxy routes reads by aid
            for (TestDatabase s : new TestDatabase[] {s0, s1}) {
                Tools.Result init = Tools.run(java.util.Map.of("PGPASSWORD", s.server().password()), "/usr/bin/pgbench", "-i",
                        "-q", "-s", "1", "-h", s.server().host(), "-p", String.valueOf(s.server().port()), "-U",
                        s.server().superuser(), s.name());
                assertEquals(0, init.exitCode(), init.output());
            }
            Tools.Result r = Tools.psql(proxy, "prod", "SELECT count(*) FROM pgbench_branches");
            assertEquals(0, r.exitCode(), r.output());
            assertEquals("1", r.output().trim());
            Tools.Result fan = Tools.psql(proxy, "prod", "SELECT aid FROM pgbench_accounts WHERE aid < 11");
            assertEquals(10 * 2, fan.output().trim().lines().count(), fan.output()); // both shards hold every row here
            for (String mode : new String[] {"simple", "extended", "prepared"}) {
                Tools.Result ro = Tools.pgbench(proxy, "prod", "-n", "-S", "-M", mode, "-c", "4", "-j", "2", "-t", "200");
                assertEquals(0, ro.exitCode(), mode + ": " + ro.output());
                assertTrue(ro.output().contains("actually processed: 800/800"), ro.output());
            }
        }
    }

    static long countRows(Connection c, String sql) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            long n = 0;
            while (rs.next()) {
                n++;
            }
            return n;
        }
    }
}
