package dev.pgreshard.activities.verify;

import dev.pgreshard.activities.copy.TableCopier;
import dev.pgreshard.activities.copy.CopyListener;
import dev.pgreshard.activities.schema.SchemaPhase;
import dev.pgreshard.activities.schema.SchemaSync;
import dev.pgreshard.activities.support.Clusters;
import dev.pgreshard.core.config.PgReshardConfig;
import dev.pgreshard.core.pg.PgConnector;
import dev.pgreshard.core.sharding.ShardFunction;
import dev.pgreshard.core.sharding.ShardKeyType;
import dev.pgreshard.core.topology.TableName;
import dev.pgreshard.core.topology.Topology;
import dev.pgreshard.testkit.PostgresExtension;
import dev.pgreshard.testkit.TestDatabase;
import dev.pgreshard.workflows.verify.TableVerification;
import dev.pgreshard.workflows.verify.VerifyReport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.List;
import java.util.stream.Stream;

import static dev.pgreshard.activities.support.Clusters.TASK;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Verification detects a missing, an extra, a changed and a misplaced row, naming table and shard. */
@ExtendWith(PostgresExtension.class)
class VerifierTest {

    @Test
    void detectsEachKindOfDifferenceOnItsShard(TestDatabase src, TestDatabase dst0, TestDatabase dst1) throws Exception {
        src.execute("""
                CREATE TABLE orders (customer_id bigint, id bigint, v text, at timestamptz, PRIMARY KEY (customer_id, id));
                INSERT INTO orders SELECT g % 50, g, 'v' || g, '2024-01-01'::timestamptz + g * interval '1 h'
                    FROM generate_series(1, 2000) g;
                CREATE TABLE countries (code text PRIMARY KEY, name text);
                INSERT INTO countries VALUES ('de', 'Deutschland'), ('jp', '日本');
                CREATE PUBLICATION pub FOR TABLE orders, countries;
                """);
        List<TestDatabase> shards = List.of(dst0, dst1);
        PgReshardConfig config = Clusters.config(List.of(src), shards, Clusters.sharded("orders", "customer_id", "bigint"));
        PgConnector connector = new PgConnector(config);
        new SchemaSync(config, connector).run(TASK, SchemaPhase.PRE);
        TableCopier copier = new TableCopier(config, connector);
        copier.copy(TASK, TableName.parse("orders"), false, CopyListener.NONE);
        copier.copy(TASK, TableName.parse("countries"), false, CopyListener.NONE);
        Verifier verifier = new Verifier(config, connector);
        VerifyReport clean = verifier.verify(TASK);
        assertTrue(clean.ok(), clean.toString());
        assertEquals(2000, clean.tables().get(1).destinationRows());

        ShardFunction f = new ShardFunction(ShardKeyType.BIGINT, 2);
        int s5 = f.shardOf(5L);
        TestDatabase home5 = shards.get(s5);
        String where5 = "dst shard " + s5 + " (";

        home5.execute("DELETE FROM orders WHERE customer_id = 5 AND id = 5");
        assertProblem(verifier, "orders", "table public.orders on " + where5, "1 row(s) missing (");
        home5.execute("INSERT INTO orders VALUES (5, 5, 'v5', '2024-01-01'::timestamptz + 5 * interval '1 h')");

        home5.execute("INSERT INTO orders VALUES (5, 99999, 'extra', now())");
        assertProblem(verifier, "orders", "table public.orders on " + where5, "1 extra row(s)");
        home5.execute("DELETE FROM orders WHERE id = 99999");

        home5.execute("UPDATE orders SET v = 'changed' WHERE customer_id = 5 AND id = 55");
        assertProblem(verifier, "orders", "table public.orders on " + where5,
                "checksum differs from the source with equal row counts (changed rows)");
        home5.execute("UPDATE orders SET v = 'v55' WHERE customer_id = 5 AND id = 55");
        assertTrue(verifier.verify(TASK).ok());

        TestDatabase other = shards.get(1 - s5);
        home5.execute("DELETE FROM orders WHERE customer_id = 5 AND id = 105");
        other.execute("INSERT INTO orders VALUES (5, 105, 'v105', '2024-01-01'::timestamptz + 105 * interval '1 h')");
        TableVerification moved = verifier.verify(TASK).tables().get(1);
        int o = 1 - s5;
        assertEquals(Stream.of(
                "table public.orders on " + shardName(config, s5) + ": 1 row(s) missing (" + (count(home5) ) + " of " + (count(home5) + 1) + ")",
                "table public.orders on " + shardName(config, o) + ": 1 extra row(s) (" + count(other) + ", expected " + (count(other) - 1) + ")",
                "table public.orders on " + shardName(config, o) + ": 1 row(s) belong to another shard by customer_id (misplaced)").sorted().toList(),
                moved.problems().stream().sorted().toList());
        assertEquals(1, moved.misplacedRows());
        assertEquals(moved.sourceRows(), moved.destinationRows(), "a misplaced row is not missing overall");
        assertEquals(moved.sourceChecksum(), moved.destinationChecksum());
        other.execute("DELETE FROM orders WHERE id = 105");
        home5.execute("INSERT INTO orders VALUES (5, 105, 'v105', '2024-01-01'::timestamptz + 105 * interval '1 h')");

        dst1.execute("UPDATE countries SET name = 'Japan' WHERE code = 'jp'");
        assertProblem(verifier, "countries", "table public.countries on dst shard 1 (", "changed rows");
        dst1.execute("UPDATE countries SET name = '日本' WHERE code = 'jp'");
        assertTrue(verifier.verify(TASK).ok());
    }

    private static long count(TestDatabase d) {
        return d.queryLong("SELECT count(*) FROM orders");
    }

    private static String shardName(PgReshardConfig config, int i) {
        return Topology.of(config).cluster("dst").shard(i).describe();
    }

    private static TableVerification assertProblem(Verifier verifier, String table, String where, String what)
            throws Exception {
        VerifyReport report = verifier.verify(TASK);
        TableVerification t = report.tables().stream().filter(v -> v.table().name().equals(table)).findFirst().orElseThrow();
        assertEquals(1, report.tables().stream().filter(v -> !v.ok()).count(), report.toString());
        assertEquals(1, t.problems().size(), t.problems().toString());
        String p = t.problems().get(0);
        assertTrue(p.startsWith(where) && p.contains(what), "expected «" + where + "…" + what + "» but got: " + p);
        return t;
    }
}
