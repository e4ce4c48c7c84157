package dev.pgreshard.proxy.sharded;

import dev.pgreshard.core.sharding.ShardFunction;
import dev.pgreshard.core.sharding.ShardKeyType;
import dev.pgreshard.proxy.ProxyFixture;
import dev.pgreshard.testkit.PostgresExtension;
import dev.pgreshard.testkit.TestDatabase;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Properties;
import java.util.StringJoiner;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Reads across two shards answered through the proxy, each compared with the same statement on one
 * database holding all the rows (the answers of PostgreSQL itself, not expectations written here):
 * equal, in order where ORDER BY fixes it, or refused with 0A000 — in the simple protocol and with
 * prepared statements re-executed in binary.
 */
@ExtendWith(PostgresExtension.class)
class MergedReadTest {
    private static final ShardFunction F = new ShardFunction(ShardKeyType.BIGINT, 2);
    static final String SCHEMA = "CREATE TABLE orders (id bigint, customer_id bigint NOT NULL, status text, amount numeric(10,2), "
            + "qty int, price float8, created timestamptz, flag bool, note text)";
    static final String ROWS = "INSERT INTO orders SELECT g, g % 97, (ARRAY['new','paid','shipped',NULL,'Été','zebra','Zulu'])[g % 7 + 1], "
            + "CASE WHEN g % 11 = 0 THEN NULL ELSE round((g * 7.31 - 400)::numeric, 2) END, "
            + "CASE WHEN g % 13 = 0 THEN NULL ELSE (g * 37) % 50 - 10 END, g / 8.0, "
            + "timestamptz '2024-01-01 00:00:00+00' + g * interval '7 hours', g % 3 = 0, 'n' || (g % 50) FROM generate_series(1, ROWCOUNT) g";

    static final List<String> ANSWERED = List.of(
            "SELECT count(*) FROM orders",
            "SELECT count(*), count(amount), sum(qty), sum(amount), min(status), max(status), avg(qty), avg(amount), min(created), max(price) FROM orders",
            "SELECT count(*), sum(qty), avg(amount) FROM orders WHERE id < 0",
            "SELECT status, count(*) FROM orders GROUP BY status ORDER BY 2 DESC, 1 LIMIT 5",
            "SELECT status, count(*) AS n, sum(amount) FROM orders GROUP BY 1 ORDER BY status NULLS FIRST",
            "SELECT customer_id % 5 AS bucket, round(avg(qty), 2), sum(amount) / count(*) FROM orders GROUP BY customer_id % 5 ORDER BY 1",
            "SELECT customer_id, sum(qty) FROM orders GROUP BY customer_id HAVING sum(qty) > 100 ORDER BY 2 DESC, 1 LIMIT 10 OFFSET 3",
            "SELECT flag, bool_and(qty > 0), bool_or(qty > 30), count(DISTINCT status), count(DISTINCT customer_id) FROM orders GROUP BY flag ORDER BY flag",
            "SELECT count(DISTINCT status) FROM orders",
            "SELECT id, amount FROM orders ORDER BY id DESC LIMIT 10",
            "SELECT id, note FROM orders ORDER BY amount DESC NULLS LAST, id LIMIT 7 OFFSET 5",
            "SELECT * FROM orders ORDER BY created LIMIT 3",
            "SELECT status FROM orders ORDER BY status, id LIMIT 12",
            "SELECT DISTINCT status FROM orders ORDER BY status",
            "SELECT DISTINCT status FROM orders ORDER BY status DESC LIMIT 3",
            "SELECT DISTINCT ON (customer_id) customer_id, id FROM orders ORDER BY customer_id, id LIMIT 20",
            "SELECT id, qty FROM orders ORDER BY qty NULLS FIRST, id",
            "SELECT id, status FROM orders ORDER BY status DESC, id",
            "SELECT id, amount, note FROM orders ORDER BY amount, note, id LIMIT 20000 OFFSET 2",
            "SELECT id, created FROM orders ORDER BY created DESC",
            "SELECT id, price FROM orders WHERE customer_id IN (1, 2, 3) ORDER BY price, id",
            "SELECT max(amount) - min(amount) AS spread, coalesce(sum(qty), 0) FROM orders",
            "SELECT status, max(note) FROM orders WHERE flag GROUP BY status HAVING count(*) > 3 ORDER BY max(note), status",
            // found by the large differential seed: a key listed twice before another one (the stream compared a
            // helper column of the wrong key: NumberFormatException on '"default"' in text, a wrong order in binary)
            "SELECT id, qty FROM orders ORDER BY qty, qty DESC, id",
            "SELECT id, qty, price FROM orders ORDER BY price DESC, qty, price, id",
            // positions into * (and past it), resolved against the shards' own expansion of *
            "SELECT * FROM orders WHERE flag ORDER BY customer_id DESC NULLS LAST, 5 ASC, id",
            "SELECT * FROM orders ORDER BY 3 DESC NULLS LAST, id LIMIT 15",
            "SELECT o.*, amount * 2 AS twice FROM orders o ORDER BY 10 DESC NULLS LAST, 1 LIMIT 8",
            "SELECT id, * FROM orders ORDER BY 6, 1 LIMIT 9",
            "SELECT DISTINCT ON (3) * FROM orders ORDER BY 3, id",
            // a bare ORDER BY name is the output column so named: created::date is called created
            "SELECT created::date, id FROM orders ORDER BY created DESC, id LIMIT 10",
            "SELECT created::date, id FROM orders ORDER BY created, id",
            // helper columns must not make the client's ORDER BY names ambiguous on the shards
            "SELECT id FROM orders ORDER BY created::date DESC, created, id LIMIT 10");

    /** Statements PostgreSQL itself rejects: the proxy must answer the same SQLSTATE, not a refusal of its own. */
    static final List<String> REJECTED = List.of(
            "SELECT created::date, created FROM orders ORDER BY created LIMIT 5",
            "SELECT * FROM orders ORDER BY 12 LIMIT 3",
            "SELECT id FROM orders ORDER BY 0",
            "SELECT id, note FROM orders ORDER BY 3");

    static final List<String> REFUSED = List.of(
            "SELECT id, rank() OVER (ORDER BY amount) FROM orders",
            "SELECT sum(price) FROM orders",
            "SELECT string_agg(note, ',') FROM orders",
            "SELECT status FROM orders UNION SELECT status FROM orders",
            "SELECT * FROM orders WHERE amount > (SELECT avg(amount) FROM orders)",
            "WITH t AS (SELECT customer_id, count(*) c FROM orders GROUP BY 1) SELECT max(c) FROM t");

    @Test
    void everyAnswerIsTheSingleDatabasesOrARefusal(TestDatabase single, TestDatabase s0, TestDatabase s1) throws Exception {
        single.execute(SCHEMA, ROWS.replace("ROWCOUNT", "3000"));
        // the same rows on the shards where the sharding function puts them (customer_id = g % 97)
        TestDatabase[] shards = {s0, s1};
        for (int i = 0; i < 2; i++) {
            StringJoiner mine = new StringJoiner(", ", "(", ")");
            for (long customer = 0; customer < 97; customer++) {
                if (F.shardOf(customer) == i) {
                    mine.add(Long.toString(customer));
                }
            }
            shards[i].execute(SCHEMA, ROWS.replace("ROWCOUNT", "3000") + " WHERE g % 97 IN " + mine);
        }
        try (ProxyFixture proxy = new ProxyFixture().cluster("prod", s0, s1).shardedTable("prod", "orders", "customer_id", "bigint").start()) {
            assertTrue(s0.queryLong("SELECT count(*) FROM orders") > 0 && s1.queryLong("SELECT count(*) FROM orders") > 0);
            for (String mode : new String[] {"simple", "extended"}) {
                Properties p = new Properties();
                p.setProperty("preferQueryMode", mode);
                p.setProperty("prepareThreshold", "1");
                try (Connection viaProxy = proxy.connect("prod", ProxyFixture.USER, ProxyFixture.PASSWORD, p);
                     Connection direct = single.connect()) {
                    for (String sql : ANSWERED) {
                        for (int run = 0; run < 2; run++) { // the second run re-executes the named statement (binary results)
                            Answer want = answer(direct, sql);
                            Answer got = answer(viaProxy, sql);
                            if (got.error != null) {
                                fail(mode + ": " + sql + " was refused: " + got.error);
                            }
                            assertEquals(want.columns, got.columns, mode + ": columns of " + sql);
                            List<List<Object>> w = want.rows;
                            List<List<Object>> g = got.rows;
                            if (!sql.contains("ORDER BY")) {
                                w = sorted(w);
                                g = sorted(g);
                            }
                            assertEquals(w, g, mode + ": rows of " + sql);
                        }
                    }
                    for (String sql : REJECTED) {
                        Answer want = answer(direct, sql);
                        Answer got = answer(viaProxy, sql);
                        assertTrue(want.sqlState != null, sql + " should fail on PostgreSQL itself");
                        assertEquals(want.sqlState, got.sqlState, mode + ": " + sql + " → " + got.error);
                    }
                    for (String sql : REFUSED) {
                        Answer got = answer(viaProxy, sql);
                        assertEquals("0A000", got.sqlState, mode + ": " + sql + " should be refused, got " + got.rows.size()
                                + " rows / " + got.error);
                    }
                }
            }
            try (Connection c = proxy.connect("prod"); PreparedStatement ps = c.prepareStatement(
                    "SELECT status, count(*) FROM orders WHERE customer_id = ANY(?) GROUP BY status HAVING count(*) >= ? ORDER BY 1 LIMIT ?");
                 Connection d = single.connect(); PreparedStatement pd = d.prepareStatement(
                    "SELECT status, count(*) FROM orders WHERE customer_id = ANY(?) GROUP BY status HAVING count(*) >= ? ORDER BY 1 LIMIT ?")) {
                for (int run = 0; run < 4; run++) {
                    for (PreparedStatement x : new PreparedStatement[] {ps, pd}) {
                        x.setArray(1, x.getConnection().createArrayOf("bigint", new Long[] {1L, 2L, 3L, (long) run + 10}));
                        x.setInt(2, run);
                        x.setInt(3, 2 + run);
                    }
                    assertEquals(rows(pd.executeQuery()), rows(ps.executeQuery()), "prepared run " + run);
                }
            }
            try (Connection admin = proxy.connectAdmin()) {
                List<List<Object>> plan = answer(admin, "EXPLAIN ROUTE SELECT status, avg(qty) FROM orders GROUP BY status").rows();
                assertTrue(plan.stream().anyMatch(r -> r.get(0).equals("shard sql") && r.get(1).equals("0,1")
                        && r.get(2).toString().contains("sum(qty), count(qty)")), plan.toString());
                assertTrue(plan.stream().anyMatch(r -> r.get(0).equals("merge")), plan.toString());
                List<List<Object>> refused = answer(admin, "EXPLAIN ROUTE SELECT rank() OVER (ORDER BY id) FROM orders").rows();
                assertTrue(refused.stream().anyMatch(r -> r.get(0).equals("refused") && r.get(2).toString().startsWith("0A000")),
                        refused.toString());
                List<List<Object>> keyed = answer(admin, "EXPLAIN ROUTE SELECT * FROM orders WHERE customer_id = 5").rows();
                assertTrue(keyed.stream().anyMatch(r -> r.get(0).equals("shard sql") && r.get(1).equals(String.valueOf(F.shardOf(5)))),
                        keyed.toString());
            }
        }
    }

    record Answer(List<String> columns, List<List<Object>> rows, String sqlState, String error) {
    }

    static Answer answer(Connection c, String sql) {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            ResultSetMetaData md = rs.getMetaData();
            List<String> cols = new ArrayList<>();
            for (int i = 1; i <= md.getColumnCount(); i++) {
                cols.add(md.getColumnLabel(i) + ":" + md.getColumnTypeName(i));
            }
            return new Answer(cols, rows(rs), null, null);
        } catch (SQLException e) {
            return new Answer(List.of(), List.of(), e.getSQLState(), e.getMessage());
        }
    }

    static List<List<Object>> rows(ResultSet rs) throws SQLException {
        List<List<Object>> out = new ArrayList<>();
        int n = rs.getMetaData().getColumnCount();
        while (rs.next()) {
            List<Object> row = new ArrayList<>();
            for (int i = 1; i <= n; i++) {
                Object o = rs.getObject(i);
                row.add(o == null ? null : o instanceof java.math.BigDecimal b ? b.toString() : o.toString());
            }
            out.add(row);
        }
        return out;
    }

    static List<List<Object>> sorted(List<List<Object>> rows) {
        List<List<Object>> s = new ArrayList<>(rows);
        s.sort(Comparator.comparing(Object::toString));
        return s;
    }
}
