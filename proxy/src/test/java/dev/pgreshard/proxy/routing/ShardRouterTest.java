package dev.pgreshard.proxy.routing;

import dev.pgreshard.core.sharding.ShardFunction;
import dev.pgreshard.core.sharding.ShardKeyType;
import dev.pgreshard.core.topology.Cluster;
import dev.pgreshard.core.topology.Shard;
import dev.pgreshard.core.topology.ShardedTable;
import dev.pgreshard.core.topology.TableName;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ShardRouterTest {
    private static final TableName ORDERS = new TableName("public", "orders");
    private static final Cluster CLUSTER = new Cluster("c",
            List.of(new Shard("c", 0, "h", 1, "d0"), new Shard("c", 1, "h", 1, "d1"), new Shard("c", 2, "h", 1, "d2")),
            Map.of(ORDERS, new ShardedTable(ORDERS, "customer_id", ShardKeyType.BIGINT)));
    private static final ShardFunction F = new ShardFunction(ShardKeyType.BIGINT, 3);
    private final SqlAnalyzer analyzer = new SqlAnalyzer();

    /** Routes as the router does on each execution, and checks that the plan kept for repeated executions agrees. */
    private Decision route(String sql, BindValues params) {
        ParsedSql parsed = analyzer.analyze(sql);
        Decision d = ShardRouter.route(CLUSTER, parsed, params);
        RoutePlan plan = ShardRouter.plan(CLUSTER, parsed);
        if (plan != null) {
            Decision planned = plan.route(params);
            String what = sql + " (planned " + plan + ")";
            assertEquals(d.kind(), planned.kind(), what);
            assertArrayEquals(d.shards(), planned.shards(), what);
            assertEquals(List.of(d.anyShard(), d.write(), d.sumCounts()), List.of(planned.anyShard(), planned.write(), planned.sumCounts()), what);
            assertEquals(d.rewritten(), planned.rewritten(), what);
            assertEquals(d.sqlState(), planned.sqlState(), what);
            assertEquals(d.error(), planned.error(), what);
        }
        return d;
    }

    private Decision route(String sql) {
        return route(sql, BindValues.NONE);
    }

    @Test
    void keyEqualityAndInListPickShards() {
        assertArrayEquals(new int[] {F.shardOf(7L)}, route("SELECT * FROM orders WHERE customer_id = 7").shards());
        assertArrayEquals(new int[] {F.shardOf(7L)}, route("select * from public.orders o where o.customer_id = '7'::bigint and x > 1").shards());
        int[] in = route("SELECT * FROM orders WHERE customer_id IN (1, 2, 3, 4, 5, 6)").shards();
        assertEquals(3, in.length);
        assertArrayEquals(new int[] {0, 1, 2}, route("SELECT * FROM orders WHERE customer_id = 7 OR true").shards());
        assertArrayEquals(new int[] {0, 1, 2}, route("SELECT count(*) FROM orders").shards());
        assertTrue(route("SELECT * FROM omni WHERE id = 3").anyShard());
        assertTrue(route("SELECT 1").anyShard());
    }

    @Test
    void aPlanIsKeptForSingleStatementsAndReadsItsKeyParametersPerExecution() {
        RoutePlan plan = ShardRouter.plan(CLUSTER, analyzer.analyze("UPDATE orders SET note = $1 WHERE customer_id = $2"));
        assertTrue(plan instanceof RoutePlan.Keyed, String.valueOf(plan));
        for (long key : new long[] {1, 2, 3, 42}) {
            byte[] value = ByteBuffer.allocate(8).putLong(key).array();
            assertArrayEquals(new int[] {F.shardOf(key)}, plan.route(params2(value)).shards());
        }
        assertTrue(ShardRouter.plan(CLUSTER, analyzer.analyze("SELECT 1")) instanceof RoutePlan.Fixed);
        assertNull(ShardRouter.plan(CLUSTER, analyzer.analyze("INSERT INTO orders (customer_id) VALUES (1), (2)")));
        assertNull(ShardRouter.plan(CLUSTER, analyzer.analyze("SELECT 1; SELECT 2")));
        // a bad value is refused on the execution that binds it, naming the key
        Decision bad = plan.route(params2("x".getBytes(StandardCharsets.UTF_8), 0));
        assertTrue(bad.refused());
        assertTrue(bad.error().startsWith("shard key public.orders.customer_id: "), bad.error());
    }

    /** $1 a text note, $2 the key (binary unless {@code format} says otherwise). */
    private static BindValues params2(byte[] key, int... format) {
        return new BindValues() {
            @Override
            public int count() {
                return 2;
            }

            @Override
            public byte[] value(int index) {
                return index == 1 ? "n".getBytes(StandardCharsets.UTF_8) : key;
            }

            @Override
            public int format(int index) {
                return index == 1 ? 0 : format.length > 0 ? format[0] : 1;
            }
        };
    }

    @Test
    void bindParametersInTextAndBinary() {
        byte[] text = "42".getBytes(StandardCharsets.UTF_8);
        byte[] binary = ByteBuffer.allocate(4).putInt(42).array();
        assertArrayEquals(new int[] {F.shardOf(42L)}, route("SELECT * FROM orders WHERE customer_id = $1", params(text, 0)).shards());
        assertArrayEquals(new int[] {F.shardOf(42L)}, route("DELETE FROM orders WHERE customer_id = $1", params(binary, 1)).shards());
    }

    @Test
    void insertsGoToTheirRowsShardsAndSplitWhenNeeded() {
        Decision one = route("INSERT INTO orders (customer_id, note) VALUES (5, 'x')");
        assertArrayEquals(new int[] {F.shardOf(5L)}, one.shards());
        assertTrue(one.write());
        Decision split = route("INSERT INTO orders (customer_id, note) VALUES (1, 'a'), (2, 'b'), (3, 'c'), (4, 'd')");
        assertTrue(split.rewritten().size() > 1);
        split.rewritten().forEach((shard, sql) -> assertTrue(sql.startsWith("INSERT INTO orders"), sql));
        assertEquals("0A000", route("INSERT INTO orders VALUES (1, 'a')").sqlState());
        assertEquals("0A000", route("INSERT INTO orders (note) VALUES ('a')").sqlState());
        assertEquals("0A000", route("INSERT INTO orders (customer_id) SELECT 1").sqlState());
        assertEquals("0A000", route("UPDATE orders SET customer_id = 3 WHERE customer_id = 2").sqlState());
        Decision omni = route("INSERT INTO omni (id) VALUES (1)");
        assertArrayEquals(new int[] {0, 1, 2}, omni.shards());
        assertFalse(omni.sumCounts());
    }

    @Test
    void controlStatementsAndUnreadableWrites() {
        assertEquals(StatementKind.BEGIN, route("BEGIN").kind());
        assertEquals(StatementKind.BEGIN, route("start transaction isolation level serializable").kind());
        assertEquals(StatementKind.COMMIT, route("END").kind());
        assertEquals(StatementKind.ROLLBACK, route("rollback").kind());
        assertEquals(StatementKind.IN_TRANSACTION, route("ROLLBACK TO SAVEPOINT a").kind());
        assertEquals(StatementKind.SESSION, route("SET application_name = 'x'").kind());
        assertEquals(StatementKind.COPY_IN, route("COPY orders (customer_id, note) FROM STDIN").kind());
        assertArrayEquals(new int[] {0, 1, 2}, route("CREATE TABLE x (id int)").shards());
        assertEquals("0A000", route("DO $$ BEGIN PERFORM 1; END $$").sqlState());
        assertNull(route("SELECT * FROM orders WHERE customer_id = 1").sqlState());
    }

    @Test
    void copyCommandGrammar() {
        CopyCommand c = CopyCommand.parse("copy \"Orders\" (\"Id\", customer_id) from stdin with (format csv, header true)");
        assertEquals(new TableName("public", "Orders"), c.table());
        assertEquals(List.of("Id", "customer_id"), c.columns());
        assertTrue(c.in() && c.csv() && c.header());
        CopyCommand t = CopyCommand.parse("COPY s.orders FROM STDIN");
        assertEquals(new TableName("s", "orders"), t.table());
        assertEquals('\t', t.delimiter());
        assertNull(CopyCommand.parse("COPY orders FROM '/etc/passwd'"));
    }

    private static BindValues params(byte[] value, int format) {
        return new BindValues() {
            @Override
            public int count() {
                return 1;
            }

            @Override
            public byte[] value(int index) {
                return value;
            }

            @Override
            public int format(int index) {
                return format;
            }
        };
    }
}
