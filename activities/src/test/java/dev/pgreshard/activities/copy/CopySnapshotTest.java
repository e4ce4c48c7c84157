package dev.pgreshard.activities.copy;

import dev.pgreshard.activities.schema.SchemaPhase;
import dev.pgreshard.activities.schema.SchemaSync;
import dev.pgreshard.activities.support.Clusters;
import dev.pgreshard.core.config.PgReshardConfig;
import dev.pgreshard.core.pg.PgConnector;
import dev.pgreshard.core.topology.TableName;
import dev.pgreshard.testkit.PostgresExtension;
import dev.pgreshard.testkit.TestDatabase;
import dev.pgreshard.workflows.copy.TableCopyResult;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import static dev.pgreshard.activities.support.Clusters.TASK;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Under concurrent writes, every range of a split table is read at the one exported snapshot:
 * the destination holds exactly a prefix of the writer's transactions, whole (each inserts a row
 * and updates another), with no gap and nothing after it.
 */
@ExtendWith(PostgresExtension.class)
class CopySnapshotTest {

    /** Creating the slot waits for a transaction already running on the source; progress keeps flowing meanwhile. */
    @Test
    void progressIsReportedWhileTheSnapshotWaitsForARunningTransaction(TestDatabase src, TestDatabase dst)
            throws Exception {
        src.execute("CREATE TABLE t (id bigint PRIMARY KEY)", "INSERT INTO t SELECT generate_series(1, 1000)",
                "CREATE TABLE other (id bigint)", "CREATE PUBLICATION pub FOR TABLE t");
        PgReshardConfig config = Clusters.config(List.of(src), List.of(dst), "");
        PgConnector connector = new PgConnector(config);
        new SchemaSync(config, connector).run(TASK, SchemaPhase.PRE);
        AtomicLong progressCalls = new AtomicLong();
        try (Connection blocker = src.connect()) {
            blocker.setAutoCommit(false);
            blocker.createStatement().execute("INSERT INTO other VALUES (1)"); // holds an xid until commit
            CompletableFuture<TableCopyResult> copy = CompletableFuture.supplyAsync(() -> {
                try {
                    return new TableCopier(config, connector).copy(TASK, TableName.parse("t"), false,
                            (table, rows, bytes) -> progressCalls.incrementAndGet());
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            Thread.sleep(3500);
            assertTrue(!copy.isDone(), "the slot waits for the open transaction");
            assertTrue(progressCalls.get() >= 2, "progress (heartbeats) while waiting: " + progressCalls.get());
            blocker.commit();
            assertEquals(1000, copy.get().rows());
        }
    }

    @Test
    void allRangesSeeTheSameSnapshotUnderConcurrentWrites(TestDatabase src, TestDatabase dst0, TestDatabase dst1)
            throws Exception {
        src.execute("CREATE TABLE t (id bigint PRIMARY KEY, tenant bigint NOT NULL, pad text)",
                "INSERT INTO t SELECT g, g % 100, repeat('p', 100) FROM generate_series(1, 200000) g",
                "CREATE PUBLICATION pub FOR TABLE t");
        PgReshardConfig config = Clusters.config(List.of(src), List.of(dst0, dst1),
                "[general]\ncopy_parallelism = 3\ncopy_split_threshold_bytes = 1000000\n"
                        + Clusters.sharded("t", "tenant", "bigint"));
        PgConnector connector = new PgConnector(config);
        new SchemaSync(config, connector).run(TASK, SchemaPhase.PRE);

        AtomicBoolean stop = new AtomicBoolean();
        AtomicLong committed = new AtomicLong();
        CompletableFuture<Void> writer = CompletableFuture.runAsync(() -> {
            try (Connection c = src.connect()) {
                c.setAutoCommit(false);
                try (PreparedStatement insert = c.prepareStatement("INSERT INTO t VALUES (?, ?, 'new')");
                     PreparedStatement update = c.prepareStatement("UPDATE t SET pad = ? WHERE id = ?")) {
                    for (long i = 1; !stop.get(); i++) {
                        insert.setLong(1, 1_000_000 + i);
                        insert.setLong(2, i % 100);
                        insert.executeUpdate();
                        update.setString(1, "after-" + i);
                        update.setLong(2, i * 7 % 200000 + 1); // rows spread over the whole table, so over every range
                        update.executeUpdate();
                        c.commit();
                        committed.set(i);
                    }
                }
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        while (committed.get() < 50) {
            Thread.sleep(5);
        }
        TableCopyResult result = new TableCopier(config, connector).copy(TASK, TableName.parse("t"), false,
                CopyListener.NONE);
        long atEnd = committed.get();
        stop.set(true);
        writer.join();

        List<TestDatabase> shards = List.of(dst0, dst1);
        long k = Clusters.rows(shards, "SELECT max(id) - 1000000 FROM t WHERE id > 1000000").stream()
                .mapToLong(r -> Long.parseLong(r.substring(1, r.length() - 1).equals("null") ? "0"
                        : r.substring(1, r.length() - 1))).max().orElseThrow();
        assertTrue(k >= 50 && k < atEnd, "snapshot taken while writing: k=" + k + ", committed at end " + atEnd);
        assertEquals(200_000 + k, result.rows());
        long inserted = dst0.queryLong("SELECT count(*) FROM t WHERE id > 1000000")
                + dst1.queryLong("SELECT count(*) FROM t WHERE id > 1000000");
        assertEquals(k, inserted, "the inserts are a prefix without gaps");
        long updated = dst0.queryLong("SELECT count(*) FROM t WHERE pad LIKE 'after-%'")
                + dst1.queryLong("SELECT count(*) FROM t WHERE pad LIKE 'after-%'");
        assertEquals(k, updated, "exactly the updates of the same transactions, whichever range holds the row");
        long beyond = dst0.queryLong("SELECT count(*) FROM t WHERE pad LIKE 'after-%' AND substr(pad, 7)::bigint > " + k)
                + dst1.queryLong("SELECT count(*) FROM t WHERE pad LIKE 'after-%' AND substr(pad, 7)::bigint > " + k);
        assertEquals(0, beyond);
    }
}
