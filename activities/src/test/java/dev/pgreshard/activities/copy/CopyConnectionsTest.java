package dev.pgreshard.activities.copy;

import dev.pgreshard.activities.catalog.NotRetryableException;
import dev.pgreshard.activities.preflight.Preflight;
import dev.pgreshard.activities.support.Clusters;
import dev.pgreshard.core.config.PgReshardConfig;
import dev.pgreshard.core.pg.PgConnector;
import dev.pgreshard.core.topology.Shard;
import dev.pgreshard.core.topology.TableName;
import dev.pgreshard.core.topology.Topology;
import dev.pgreshard.testkit.PostgresExtension;
import dev.pgreshard.testkit.TestDatabase;
import dev.pgreshard.workflows.copy.TableCopyResult;
import dev.pgreshard.workflows.preflight.PreflightReport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.List;
import java.util.concurrent.CompletableFuture;

import static dev.pgreshard.activities.support.Clusters.TASK;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The copier's connections on real PostgreSQL: tables copied at the same time (as data-sync copies them)
 * reuse the connections of the ranges and queries that ended before them instead of opening new ones,
 * none is left open once the copies end, and a copy that failed hands nothing on for reuse.
 */
@ExtendWith(PostgresExtension.class)
class CopyConnectionsTest {
    /** A closed connection's backend leaves pg_stat_activity shortly after, not at once; a leaked one never does. */
    private static final long SESSION_END_MS = 10_000;
    private static final String COUNT_OURS = "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'pgreshard'"
            + " AND datname = current_database()";

    @Test
    void concurrentTableCopiesReuseConnectionsAndLeaveNoneOpen(TestDatabase src, TestDatabase dst0, TestDatabase dst1)
            throws Exception {
        String[] tables = {"a", "b", "c"};
        for (String t : tables) {
            String ddl = "CREATE TABLE " + t + " (id bigint PRIMARY KEY, tenant bigint NOT NULL, note text)";
            src.execute(ddl, "INSERT INTO " + t + " SELECT g, g % 17, 'row ' || g FROM generate_series(1, 5000) g");
            dst0.execute(ddl);
            dst1.execute(ddl);
        }
        src.execute("CREATE PUBLICATION pub FOR TABLE a, b, c");
        // one stream at a time: the tables queue for it, so each can take over what the one before it used
        PgReshardConfig config = Clusters.config(List.of(src), List.of(dst0, dst1), "[general]\ncopy_parallelism = 1\n"
                + Clusters.sharded("a", "tenant", "bigint") + Clusters.sharded("b", "tenant", "bigint")
                + Clusters.sharded("c", "tenant", "bigint"));
        TableCopier copier = new TableCopier(config, new PgConnector(config));

        List<CompletableFuture<TableCopyResult>> copies = java.util.Arrays.stream(tables)
                .map(t -> CompletableFuture.supplyAsync(() -> {
                    try {
                        return copier.copy(TASK, TableName.parse(t), false, (table, rows, bytes) -> { });
                    } catch (Exception e) {
                        throw new IllegalStateException(e);
                    }
                })).toList();
        for (CompletableFuture<TableCopyResult> f : copies) {
            assertEquals(5000, f.get().rows());
        }
        for (String t : tables) {
            long copied = dst0.queryLong("SELECT count(*) FROM " + t)
                    + dst1.queryLong("SELECT count(*) FROM " + t);
            assertEquals(5000, copied, "rows of " + t + " on the two shards");
        }
        // without reuse each table opens 7 (its column and size queries and its stream's source connection on the
        // source, a check and a COPY connection on each shard): 21; one stream needs 3, plus what overlapping
        // checks of the tables that start together take
        int opened = copier.connections().opened();
        assertTrue(opened <= 3 * 3, "ordinary connections opened for 3 tables: " + opened);
        assertEquals(0, copier.connections().idle(), "idle connections kept after the last copy ended");
        for (TestDatabase db : List.of(src, dst0, dst1)) {
            assertEquals(0, db.awaitLong(COUNT_OURS, 0, SESSION_END_MS), "pgreshard sessions left on " + db.name());
        }
    }

    @Test
    void aFailedCopyHandsNoConnectionOnAndItsRetryCopiesEachRowOnce(TestDatabase src, TestDatabase dst0, TestDatabase dst1)
            throws Exception {
        String ddl = "CREATE TABLE t (id bigint PRIMARY KEY, tenant bigint NOT NULL, note text)";
        src.execute(ddl, "INSERT INTO t SELECT g, g % 17, 'row ' || g FROM generate_series(1, 5000) g",
                "UPDATE t SET note = 'refused' WHERE id = 4000", "CREATE PUBLICATION pub FOR TABLE t");
        String checked = ddl.replace(")", ", CHECK (note <> 'refused'))");
        dst0.execute(checked);
        dst1.execute(checked);
        PgReshardConfig config = Clusters.config(List.of(src), List.of(dst0, dst1), "[general]\ncopy_parallelism = 1\n"
                + Clusters.sharded("t", "tenant", "bigint"));
        TableCopier copier = new TableCopier(config, new PgConnector(config));
        TableName t = TableName.parse("t");

        NotRetryableException refused = assertThrows(NotRetryableException.class,
                () -> copier.copy(TASK, t, false, (table, rows, bytes) -> { }));
        assertTrue(refused.getMessage().contains("check constraint"), refused.getMessage());
        assertEquals(0, copier.connections().idle(), "connections of the failed copy kept for reuse");
        for (TestDatabase db : List.of(src, dst0, dst1)) {
            assertEquals(0, db.awaitLong(COUNT_OURS, 0, SESSION_END_MS), "pgreshard sessions left after the failure on " + db.name());
        }

        dst0.execute("ALTER TABLE t DROP CONSTRAINT t_note_check");
        dst1.execute("ALTER TABLE t DROP CONSTRAINT t_note_check");
        // the shard whose COPY ended before the refusal committed its part: the retry empties both first (the
        // copy's failure model), so each row is there once
        assertEquals(5000, copier.copy(TASK, t, true, (table, rows, bytes) -> { }).rows(), "the retry copies everything");
        assertEquals(5000, dst0.queryLong("SELECT count(*) FROM t") + dst1.queryLong("SELECT count(*) FROM t"));
        for (TestDatabase db : List.of(src, dst0, dst1)) {
            assertEquals(0, db.awaitLong(COUNT_OURS, 0, SESSION_END_MS), "pgreshard sessions left on " + db.name());
        }
    }

    @Test
    void aConnectionHandedOnIsBackToTheDefaultReplicationRole(TestDatabase src, TestDatabase dst0) throws Exception {
        String ddl = "CREATE TABLE t (id bigint PRIMARY KEY, tenant bigint NOT NULL)";
        src.execute(ddl, "INSERT INTO t SELECT g, g FROM generate_series(1, 100) g", "CREATE PUBLICATION pub FOR TABLE t");
        dst0.execute(ddl);
        PgReshardConfig config = Clusters.config(List.of(src), List.of(dst0), Clusters.sharded("t", "tenant", "bigint"));
        TableCopier copier = new TableCopier(config, new PgConnector(config));
        Shard shard = Topology.of(config).cluster("dst").shard(0);
        copier.connections().enter(); // another copy in progress: what this one hands back stays in the pool
        try {
            copier.copy(TASK, TableName.parse("t"), false, (table, rows, bytes) -> { });
            int opened = copier.connections().opened();
            Connection reused = copier.connections().take(shard);
            assertEquals(opened, copier.connections().opened(), "the copy's destination connection was reused");
            try (Statement s = reused.createStatement(); ResultSet rs = s.executeQuery("SHOW session_replication_role")) {
                rs.next();
                // the copy ran as replica (no triggers); a TRUNCATE of a retry on this connection must fire them
                assertEquals("origin", rs.getString(1));
            }
            copier.connections().give(shard, reused);
        } finally {
            copier.connections().leave();
        }
        assertEquals(0, copier.connections().idle());
    }

    @Test
    void aCopyAfterThePreflightUsesThePreflightsConnections(TestDatabase src, TestDatabase dst0, TestDatabase dst1)
            throws Exception {
        String ddl = "CREATE TABLE a (id bigint, tenant bigint, note text, PRIMARY KEY (tenant, id))";
        src.execute(ddl, "INSERT INTO a SELECT g, g % 17, 'row ' || g FROM generate_series(1, 5000) g",
                "CREATE PUBLICATION pub FOR TABLE a");
        dst0.execute(ddl);
        dst1.execute(ddl);
        PgReshardConfig config = Clusters.config(List.of(src), List.of(dst0, dst1), "[general]\ncopy_parallelism = 1\n"
                + "two_phase_commit = false\n" + Clusters.sharded("a", "tenant", "bigint"));
        PgConnector connector = new PgConnector(config);
        TableCopier copier = new TableCopier(config, connector);
        try (TableCopier.Kept kept = copier.keepConnections()) {
            PreflightReport report = new Preflight(config, connector).check(TASK, copier::adopt);
            assertEquals(1, report.tables().size());
            assertEquals(3, copier.connections().idle(), "the preflight's connections, one per shard, kept");
            assertEquals(5000, copier.copy(TASK, TableName.parse("a"), false, (table, rows, bytes) -> { }).rows());
            // one stream needs a source and a connection per shard: the preflight's
            assertEquals(0, copier.connections().opened(), "ordinary connections the copy opened itself");
        }
        assertEquals(5000, dst0.queryLong("SELECT count(*) FROM a") + dst1.queryLong("SELECT count(*) FROM a"));
        assertEquals(0, copier.connections().idle(), "idle connections kept once the hold ended");
        for (TestDatabase db : List.of(src, dst0, dst1)) {
            assertEquals(0, db.awaitLong(COUNT_OURS, 0, SESSION_END_MS), "pgreshard sessions left on " + db.name());
        }
    }
}
