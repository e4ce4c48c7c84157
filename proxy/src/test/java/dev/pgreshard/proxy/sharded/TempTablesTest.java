package dev.pgreshard.proxy.sharded;

import dev.pgreshard.core.sharding.ShardFunction;
import dev.pgreshard.core.sharding.ShardKeyType;
import dev.pgreshard.proxy.ProxyFixture;
import dev.pgreshard.proxy.twophase.InMemoryDecisions;
import dev.pgreshard.testkit.PostgresExtension;
import dev.pgreshard.testkit.TestDatabase;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Temporary tables of a session on a sharded database, compared with one plain PostgreSQL: the same script
 * (created, written in and out of transactions, read, joined with an omnisharded table, rolled back, ON COMMIT
 * DROP, a temporary table hiding a permanent one, DROP, DISCARD TEMP, prepared statements) must give the same
 * answers through the proxy over two shards. The temporary tables live on shard 0 only; what cannot be answered
 * there (a temporary table joined with a sharded one, a transaction that would need two-phase commit after
 * touching temporary tables) is refused with 0A000 instead — before this, such a transaction reached PREPARE and
 * PostgreSQL refused it ("cannot PREPARE a transaction that has operated on temporary objects").
 */
@ExtendWith(PostgresExtension.class)
class TempTablesTest {
    private static final String[] SCHEMA = {
            "CREATE TABLE orders (id bigint PRIMARY KEY, customer_id bigint NOT NULL, qty int)",
            "CREATE TABLE regions (id int PRIMARY KEY, name text)",
            "INSERT INTO regions VALUES (1, 'north'), (2, 'south'), (3, 'east')"};

    @Test
    void temporaryTablesAnswerLikeOneDatabase(TestDatabase plain, TestDatabase s0, TestDatabase s1) throws Exception {
        plain.execute(SCHEMA);
        s0.execute(SCHEMA);
        s1.execute(SCHEMA);
        ShardFunction f = new ShardFunction(ShardKeyType.BIGINT, 2);
        long onHome = customerOn(f, 0);
        long elsewhere = customerOn(f, 1);
        try (ProxyFixture proxy = new ProxyFixture().cluster("prod", s0, s1).shardedTable("prod", "orders", "customer_id", "bigint")
                .start()) {
            proxy.server().bindDecisionLog(new InMemoryDecisions());
            for (String mode : new String[] {"extended", "simple"}) {
                Properties p = new Properties();
                p.setProperty("preferQueryMode", mode);
                p.setProperty("prepareThreshold", "1");
                List<String> expected;
                List<String> actual;
                try (Connection c = plain.connect(p)) {
                    expected = script(c, onHome);
                }
                try (Connection c = proxy.connect("prod", ProxyFixture.USER, ProxyFixture.PASSWORD, p)) {
                    actual = script(c, onHome);
                }
                assertEquals(String.join("\n", expected), String.join("\n", actual), "answers in mode " + mode);

                try (Connection c = proxy.connect("prod", ProxyFixture.USER, ProxyFixture.PASSWORD, p); Statement st = c.createStatement()) {
                    st.execute("CREATE TEMP TABLE t (id int, v text)");
                    // one shard cannot combine its temporary table with rows spread over every shard
                    assertRefused(st, "SELECT count(*) FROM t JOIN orders o ON o.id = t.id", "sharded table");
                    assertRefused(st, "INSERT INTO t SELECT id, 'x' FROM orders", "sharded table");
                    assertRefused(st, "INSERT INTO regions SELECT id, v FROM t", "from the application");
                    assertRefused(st, "CREATE TEMP TABLE o2 AS SELECT * FROM orders", "fill it from the application");
                    assertRefused(st, "CREATE TEMP TABLE orders (id int)", "another name");
                    // a transaction that touched the temporary table may not also write on another shard: it could
                    // only commit with two-phase commit, which PostgreSQL refuses for temporary objects
                    c.setAutoCommit(false);
                    st.executeUpdate("INSERT INTO t VALUES (1, 'a')");
                    st.executeUpdate("INSERT INTO orders (id, customer_id, qty) VALUES (900, " + onHome + ", 1)"); // shard 0: one-phase
                    assertRefused(st, "INSERT INTO orders (id, customer_id, qty) VALUES (901, " + elsewhere + ", 1)", "temporary");
                    c.rollback();
                    st.executeUpdate("INSERT INTO orders (id, customer_id, qty) VALUES (902, " + elsewhere + ", 1)");
                    assertRefused(st, "UPDATE t SET v = 'b'", "temporary");
                    c.rollback();
                    // an omnisharded write goes to every shard, the home shard among them
                    st.executeQuery("SELECT count(*) FROM t").close();
                    assertRefused(st, "UPDATE regions SET name = name WHERE id = 1", "temporary");
                    c.rollback();
                    c.setAutoCommit(true);
                    st.execute("DROP TABLE t");
                }
            }
            // the temporary tables never reached shard 1, and no permanent table changed
            for (TestDatabase s : new TestDatabase[] {s0, s1}) {
                assertEquals(3L, s.queryLong("SELECT count(*) FROM regions"));
                assertEquals(0L, s.queryLong("SELECT count(*) FROM orders"));
            }
        }
    }

    /** What a client sees for a session's use of temporary tables: counts, rows or SQLSTATEs. */
    private static List<String> script(Connection c, long customer) throws SQLException {
        List<String> seen = new ArrayList<>();
        try (Statement st = c.createStatement()) {
            run(st, seen, "CREATE TEMP TABLE t (id int PRIMARY KEY, v text)");
            run(st, seen, "INSERT INTO t VALUES (1, 'a'), (2, 'b')");
            c.setAutoCommit(false);
            run(st, seen, "INSERT INTO t VALUES (3, 'c')");
            run(st, seen, "UPDATE t SET v = 'bb' WHERE id = 2");
            run(st, seen, "INSERT INTO orders (id, customer_id, qty) VALUES (1, " + customer + ", 5)"); // a sharded row on the temporary tables' shard
            c.commit();
            run(st, seen, "SELECT * FROM t ORDER BY id");
            run(st, seen, "SELECT t.v, r.name FROM t JOIN regions r ON r.id = t.id ORDER BY t.id");
            run(st, seen, "DELETE FROM t WHERE id = 1");
            c.rollback();
            run(st, seen, "SELECT count(*) FROM t");
            run(st, seen, "CREATE TEMP TABLE u (x int) ON COMMIT DROP");
            run(st, seen, "INSERT INTO u VALUES (1), (2)");
            run(st, seen, "SELECT sum(x) FROM u");
            c.commit();
            c.setAutoCommit(true);
            run(st, seen, "SELECT * FROM u");
            // created in a transaction that rolls back: it never existed
            c.setAutoCommit(false);
            run(st, seen, "CREATE TEMPORARY TABLE w (x int)");
            c.rollback();
            c.setAutoCommit(true);
            run(st, seen, "SELECT * FROM w");
            // a temporary table hides a permanent one of the same name, and DROP drops the temporary one
            run(st, seen, "CREATE TEMP TABLE regions (id int, name text)");
            run(st, seen, "INSERT INTO regions VALUES (9, 'temp')");
            run(st, seen, "SELECT * FROM regions");
            run(st, seen, "DROP TABLE regions");
            run(st, seen, "SELECT count(*) FROM regions");
            run(st, seen, "CREATE TEMP TABLE copy_of_regions AS SELECT * FROM regions WHERE id < 3");
            run(st, seen, "SELECT * FROM pg_temp.copy_of_regions ORDER BY id");
            run(st, seen, "DELETE FROM orders WHERE id = 1");
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO t VALUES (?, ?)")) {
                for (int i = 10; i < 14; i++) { // named server statement from the second execution on
                    ps.setInt(1, i);
                    ps.setString(2, "p" + i);
                    seen.add("prepared " + ps.executeUpdate());
                }
            }
            try (PreparedStatement ps = c.prepareStatement("SELECT v FROM t WHERE id >= ? ORDER BY id")) {
                for (int i = 0; i < 3; i++) {
                    ps.setInt(1, 11 + i);
                    try (ResultSet rs = ps.executeQuery()) {
                        seen.add("prepared " + rows(rs));
                    }
                }
            }
            // one request of several statements (PgJDBC sends a batch under one Sync): a CREATE TEMP among them
            st.addBatch("INSERT INTO t VALUES (20, 'x')");
            st.addBatch("CREATE TEMP TABLE b (x int)");
            st.addBatch("INSERT INTO b VALUES (1), (2)");
            st.addBatch("DROP TABLE b");
            seen.add("batch " + java.util.Arrays.toString(st.executeBatch()));
            run(st, seen, "SELECT count(*) FROM t");
            run(st, seen, "SELECT * FROM b");
            run(st, seen, "DROP TABLE t");
            run(st, seen, "SELECT * FROM t");
            run(st, seen, "CREATE TEMP TABLE t (id int)");
            run(st, seen, "DISCARD TEMP");
            run(st, seen, "SELECT * FROM t");
            run(st, seen, "SELECT * FROM copy_of_regions");
        }
        return seen;
    }

    private static void run(Statement st, List<String> seen, String sql) {
        try {
            if (st.execute(sql)) {
                try (ResultSet rs = st.getResultSet()) {
                    seen.add(sql + " → " + rows(rs));
                }
            } else {
                seen.add(sql + " → " + st.getUpdateCount());
            }
        } catch (SQLException e) {
            seen.add(sql + " → ERROR " + e.getSQLState());
            try {
                if (!st.getConnection().getAutoCommit()) {
                    st.getConnection().rollback();
                }
            } catch (SQLException ignored) {
                // the comparison shows the difference
            }
        }
    }

    private static String rows(ResultSet rs) throws SQLException {
        List<String> rows = new ArrayList<>();
        int n = rs.getMetaData().getColumnCount();
        while (rs.next()) {
            List<String> row = new ArrayList<>();
            for (int i = 1; i <= n; i++) {
                row.add(rs.getString(i));
            }
            rows.add(row.toString());
        }
        return rows.toString();
    }

    private static void assertRefused(Statement st, String sql, String says) {
        try {
            st.execute(sql);
        } catch (SQLException e) {
            assertEquals("0A000", e.getSQLState(), sql + ": " + e.getMessage());
            assertTrue(e.getMessage().contains(says), e.getMessage());
            return;
        }
        throw new AssertionError(sql + " was not refused");
    }


    private static long customerOn(ShardFunction f, int shard) {
        for (long c = 1; ; c++) {
            if (f.shardOf(c) == shard) {
                return c;
            }
        }
    }
}
