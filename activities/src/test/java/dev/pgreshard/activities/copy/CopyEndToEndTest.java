package dev.pgreshard.activities.copy;

import dev.pgreshard.activities.preflight.Preflight;
import dev.pgreshard.activities.schema.SchemaPhase;
import dev.pgreshard.activities.schema.SchemaSync;
import dev.pgreshard.activities.support.Clusters;
import dev.pgreshard.activities.support.SampleSchema;
import dev.pgreshard.activities.verify.Verifier;
import dev.pgreshard.core.config.PgReshardConfig;
import dev.pgreshard.core.pg.PgConnector;
import dev.pgreshard.core.sharding.ShardFunction;
import dev.pgreshard.core.sharding.ShardKeyType;
import dev.pgreshard.core.topology.TableName;
import dev.pgreshard.testkit.PostgresExtension;
import dev.pgreshard.testkit.TestDatabase;
import dev.pgreshard.workflows.copy.TableCopyResult;
import dev.pgreshard.workflows.preflight.PreflightReport;
import dev.pgreshard.workflows.preflight.PublishedTable;
import dev.pgreshard.workflows.verify.VerifyReport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

import static dev.pgreshard.activities.support.Clusters.TASK;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The whole data path on real PostgreSQL: preflight, schema sync, copy with rehash, verification. */
@ExtendWith(PostgresExtension.class)
class CopyEndToEndTest {
    private static final String ITEMS_ROWS = "SELECT \"TenantId\", id, amount, note, payload, doc, tags, at, mood, qty, "
            + "moods, sizes, doubled FROM \"Sales\".\"Order Items\"";
    private static final String EVENTS_ROWS = "SELECT id, account, body, n FROM public.events";
    private static final String COUNTRIES_ROWS = "SELECT code, name FROM public.countries";

    @Test
    void twoSourceShardsToThreeDestinationsInSplitRanges(TestDatabase src0, TestDatabase src1, TestDatabase dst0,
                                                         TestDatabase dst1, TestDatabase dst2) throws Exception {
        for (TestDatabase s : List.of(src0, src1)) {
            SampleSchema.create(s);
        }
        SampleSchema.load(src0, 0, 3000);
        SampleSchema.load(src1, 1_000_000, 2000);
        SampleSchema.countries(src0);
        SampleSchema.countries(src1); // omnisharded on the source too: a copy on each source shard, read from shard 0
        List<TestDatabase> sources = List.of(src0, src1);
        List<TestDatabase> destinations = List.of(dst0, dst1, dst2);
        // a tiny split threshold: every table above 64 kB is read as 3 block ranges in parallel
        PgReshardConfig config = Clusters.config(sources, destinations,
                "[general]\ncopy_parallelism = 3\ncopy_split_threshold_bytes = 65536\n" + SampleSchema.SHARDING
                        + SampleSchema.SOURCE_SHARDING);
        PgConnector connector = new PgConnector(config);

        PreflightReport report = new Preflight(config, connector).check(TASK);
        assertEquals(List.of(new TableName("Sales", "Order Items"), new TableName("public", "events"),
                new TableName("public", "countries")), report.tables().stream().map(PublishedTable::table).toList(),
                "largest first");
        assertTrue(report.tables().get(0).sharded());
        assertTrue(!report.tables().get(2).sharded());

        SchemaSync schema = new SchemaSync(config, connector);
        assertTrue(schema.run(TASK, SchemaPhase.PRE).statementsApplied() > 0);
        TableCopier copier = new TableCopier(config, connector);
        AtomicLong progressCalls = new AtomicLong();
        List<TableCopyResult> results = new ArrayList<>();
        for (PublishedTable t : report.tables()) {
            results.add(copier.copy(TASK, t.table(), false, (table, rows, bytes) -> progressCalls.incrementAndGet()));
        }
        schema.run(TASK, SchemaPhase.POST);
        assertTrue(progressCalls.get() >= 3);

        assertEquals(5000 + 6, results.get(0).rows(), "items rows written");
        assertEquals(2, results.get(0).snapshots().size(), "one snapshot LSN per source shard");
        assertTrue(results.get(0).snapshots().get(0).lsn().isValid());
        assertEquals(3 * 3, results.get(2).rows(), "omnisharded rows are written to every shard");

        // the enum[] / domain[][] columns carry element OIDs in binary COPY; they differ here, so the copy rewrote them
        String moodOid = "SELECT '\"Sales\".mood'::regtype::oid::bigint";
        assertTrue(src0.queryLong(moodOid) != dst0.queryLong(moodOid) && dst0.queryLong(moodOid) != dst1.queryLong(moodOid));
        // exact rows: the union of the destination shards equals the union of the source shards
        assertEquals(Clusters.rows(sources, ITEMS_ROWS), Clusters.rows(destinations, ITEMS_ROWS));
        assertEquals(Clusters.rows(sources, EVENTS_ROWS), Clusters.rows(destinations, EVENTS_ROWS));
        for (TestDatabase d : destinations) {
            assertEquals(Clusters.rows(List.of(src0), COUNTRIES_ROWS), Clusters.rows(List.of(d), COUNTRIES_ROWS));
        }
        // placement by our own sharding function (independent of the verifier's SQL)
        ShardFunction byTenant = new ShardFunction(ShardKeyType.BIGINT, 3);
        ShardFunction byAccount = new ShardFunction(ShardKeyType.UUID, 3);
        for (int i = 0; i < 3; i++) {
            TestDatabase d = destinations.get(i);
            assertTrue(d.queryLong("SELECT count(*) FROM \"Sales\".\"Order Items\"") > 0, "every shard gets rows");
            for (List<String> row : d.queryRows("SELECT \"TenantId\" FROM \"Sales\".\"Order Items\"")) {
                assertEquals(i, byTenant.shardOfText(row.get(0)));
            }
            for (List<String> row : d.queryRows("SELECT account FROM public.events")) {
                assertEquals(i, byAccount.shardOfText(row.get(0)));
            }
        }
        // identity/serial keep their values; generated columns are recomputed; TOAST survived
        assertEquals(6, Clusters.rows(destinations, "SELECT 1 FROM \"Sales\".\"Order Items\" "
                + "WHERE length(note) = 3200000 AND length(payload) = 960000").size());
        assertEquals(0, dst0.queryLong("SELECT count(*) FROM pg_replication_slots WHERE database = current_database()"), "temporary slots are gone");
        assertEquals(0, src0.queryLong("SELECT count(*) FROM pg_replication_slots WHERE database = current_database()"));

        VerifyReport verify = new Verifier(config, connector).verify(TASK);
        assertTrue(verify.ok(), verify.toString());
        assertEquals(5006, verify.tables().get(0).sourceRows());
    }
}
