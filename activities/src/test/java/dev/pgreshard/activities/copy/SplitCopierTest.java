package dev.pgreshard.activities.copy;

import dev.pgreshard.activities.control.ControlStore;
import dev.pgreshard.activities.support.Clusters;
import dev.pgreshard.core.config.PgReshardConfig;
import dev.pgreshard.core.pg.PgConnector;
import dev.pgreshard.core.topology.TableName;
import dev.pgreshard.testkit.PostgresExtension;
import dev.pgreshard.testkit.TestDatabase;
import dev.pgreshard.workflows.copy.HeldSnapshot;
import dev.pgreshard.workflows.copy.RangeCopyRequest;
import dev.pgreshard.workflows.copy.RangeCopyResult;
import dev.pgreshard.workflows.copy.SnapshotHold;
import dev.pgreshard.workflows.copy.SplitPlan;
import dev.pgreshard.workflows.copy.TableCopyRequest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import static dev.pgreshard.activities.support.Clusters.TASK;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The worker side of a split copy (issue 21) against real PostgreSQL: the plan splits a table above the
 * threshold into key ranges; ranges copied at one held snapshot give exactly the rows of that snapshot
 * although rows move between ranges meanwhile; a retried range deletes what its earlier attempt wrote;
 * once the holder ends its snapshot cannot be imported ({@link SnapshotGoneException}) and nothing of it
 * is left (no slot, no published row).
 */
@ExtendWith(PostgresExtension.class)
class SplitCopierTest {
    private static final TableName T = TableName.parse("t");

    @Test
    void rangesAtOneHeldSnapshotCopyExactlyThatSnapshot(TestDatabase control, TestDatabase src, TestDatabase dst0,
                                                        TestDatabase dst1) throws Exception {
        String ddl = "CREATE TABLE t (id bigint PRIMARY KEY, tenant bigint NOT NULL, note text)";
        src.execute(ddl, "INSERT INTO t SELECT g, g % 31, repeat('n', 200) FROM generate_series(1, 20000) g",
                "CREATE PUBLICATION pub FOR TABLE t");
        dst0.execute(ddl);
        dst1.execute(ddl);
        PgReshardConfig config = Clusters.config(List.of(src), List.of(dst0, dst1),
                "[general]\ncopy_split_threshold_bytes = 1048576\n[control]\nurl = \"" + control.jdbcUrl()
                        + "\"\nuser = \"postgres\"\npassword = \"postgres\"\n" + Clusters.sharded("t", "tenant", "bigint"));
        ControlStore.open(config.requireControl()).close(); // migrates the control store (pgreshard_copy_snapshot)
        PgConnector connector = new PgConnector(config);
        TableCopier copier = new TableCopier(config, connector);
        SplitCopier split = new SplitCopier(config, connector, copier, "test-worker");

        SplitPlan plan = new SplitPlanner(config, connector, copier).plan(TASK, T);
        assertTrue(plan.split() && plan.ranges().size() >= 3, plan.toString());
        assertEquals(List.of(0), plan.sourceShards());

        SnapshotHold hold = new SnapshotHold(TASK, T, 0, 1);
        AtomicBoolean release = new AtomicBoolean();
        CompletableFuture<Void> holder = CompletableFuture.runAsync(() -> {
            try {
                split.hold(hold, () -> {
                    if (release.get()) {
                        throw new IllegalStateException("cancelled"); // as a heartbeat throws on cancellation
                    }
                });
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        HeldSnapshot snapshot = split.await(hold, () -> { });
        assertEquals("test-worker", snapshot.worker());
        List<String> atSnapshot = Clusters.rows(List.of(src), "SELECT id, tenant, note FROM t");

        // after the snapshot: rows move between key ranges and shards, some go, some come
        src.execute("UPDATE t SET id = id + 1000000, tenant = tenant + 1 WHERE id % 7 = 0",
                "DELETE FROM t WHERE id % 11 = 0", "INSERT INTO t SELECT g, 5, 'new' FROM generate_series(30001, 31000) g");

        long rows = 0;
        for (int i = 0; i < plan.ranges().size(); i++) {
            RangeCopyResult r = split.copyRange(request(plan, i, snapshot), false, CopyListener.NONE);
            assertEquals("test-worker", r.worker());
            rows += r.rows();
        }
        assertEquals(atSnapshot.size(), rows);
        assertEquals(atSnapshot, Clusters.rows(List.of(dst0, dst1), "SELECT id, tenant, note FROM t"),
                "the destination holds exactly the rows of the snapshot");

        // a retried range first deletes what an earlier attempt wrote (the primary key would refuse a duplicate)
        RangeCopyResult again = split.copyRange(request(plan, 1, snapshot), true, (table, r, b) -> { });
        assertTrue(again.rows() > 0);
        assertEquals(atSnapshot, Clusters.rows(List.of(dst0, dst1), "SELECT id, tenant, note FROM t"));

        // the holder ends: its snapshot, temporary slot and published row go with it
        release.set(true);
        assertThrows(Exception.class, () -> holder.get(30, TimeUnit.SECONDS));
        assertEquals(0, src.queryLong("SELECT count(*) FROM pg_replication_slots WHERE database = current_database()"));
        assertEquals(0, control.queryLong("SELECT count(*) FROM pgreshard_copy_snapshot"));
        assertThrows(SnapshotGoneException.class,
                () -> split.copyRange(request(plan, 0, snapshot), true, CopyListener.NONE));

        // a restart empties the table on every destination shard
        split.empty(new TableCopyRequest(TASK, T));
        assertEquals(0, dst0.queryLong("SELECT count(*) FROM t") + dst1.queryLong("SELECT count(*) FROM t"));
    }

    private static RangeCopyRequest request(SplitPlan plan, int i, HeldSnapshot snapshot) {
        return new RangeCopyRequest(TASK, plan.table(), plan.keyColumn(), plan.keyType(), plan.ranges().get(i), i,
                plan.ranges().size(), List.of(snapshot));
    }
}
