package dev.pgreshard.activities.copy;

import dev.pgreshard.activities.catalog.NotRetryableException;
import dev.pgreshard.activities.schema.SchemaPhase;
import dev.pgreshard.activities.schema.SchemaSync;
import dev.pgreshard.activities.support.Clusters;
import dev.pgreshard.activities.verify.Verifier;
import dev.pgreshard.core.config.PgReshardConfig;
import dev.pgreshard.core.pg.PgConnector;
import dev.pgreshard.core.topology.TableName;
import dev.pgreshard.testkit.ChildJvm;
import dev.pgreshard.testkit.PostgresExtension;
import dev.pgreshard.testkit.TestDatabase;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static dev.pgreshard.activities.support.Clusters.TASK;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A copy killed with SIGKILL mid-table leaves no replication slot behind, and the retry (in a JVM
 * whose heap is a fraction of the table) empties what was written and ends with exact rows.
 */
@ExtendWith(PostgresExtension.class)
class CopyCrashTest {
    private static final TableName BIG = TableName.parse("big");

    @Test
    void killedMidTableThenRetriedEndsExact(TestDatabase src, TestDatabase dst0, TestDatabase dst1, @TempDir Path dir)
            throws Exception {
        src.execute("CREATE TABLE big (tenant bigint, id bigint, pad text, PRIMARY KEY (tenant, id))",
                "INSERT INTO big SELECT g % 1000, g, repeat(md5(g::text), 3) FROM generate_series(1, 1000000) g",
                "CREATE PUBLICATION pub FOR TABLE big");
        long sourceRows = 1_000_000;
        long tableBytes = src.queryLong("SELECT pg_table_size('big')");
        // two ranges per source shard, so the two streams commit independently
        String extra = "[general]\ncopy_parallelism = 2\ncopy_split_threshold_bytes = " + (tableBytes / 2 + 1) + "\n"
                + Clusters.sharded("big", "tenant", "bigint");
        Path toml = dir.resolve("pgreshard.toml");
        Files.writeString(toml, Clusters.toml(List.of(src), List.of(dst0, dst1), extra));
        Files.writeString(dir.resolve("users.toml"), Clusters.users(src));
        PgReshardConfig config = Clusters.config(List.of(src), List.of(dst0, dst1), extra);
        PgConnector connector = new PgConnector(config);
        new SchemaSync(config, connector).run(TASK, SchemaPhase.PRE);

        try (ChildJvm child = ChildJvm.start(CopyMain.class.getName(), List.of("-Xmx64m"),
                List.of(toml.toString(), "big", "first"))) {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (!child.output().contains("progress ") && System.nanoTime() < deadline) {
                assertTrue(child.isAlive(), () -> "copy ended before it could be killed: " + child.output());
                Thread.sleep(20);
            }
            assertTrue(child.output().contains("progress "), child::output);
            assertTrue(src.queryLong("SELECT count(*) FROM pg_replication_slots WHERE temporary AND database = current_database()") > 0,
                    "the copy holds a temporary slot while it runs");
            child.kill();
            assertTrue(!child.output().contains("done "), "killed mid-table: " + child.output());
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (src.queryLong("SELECT count(*) FROM pg_replication_slots WHERE database = current_database()") > 0 && System.nanoTime() < deadline) {
            Thread.sleep(100);
        }
        assertEquals(0, src.queryLong("SELECT count(*) FROM pg_replication_slots WHERE database = current_database()"), "no slot leaked after SIGKILL");

        // what a range that committed before the crash would have left behind
        dst0.execute("INSERT INTO big VALUES (-1, -1, 'left by the killed attempt')");
        NotRetryableException e = assertThrows(NotRetryableException.class,
                () -> new TableCopier(config, connector).copy(TASK, BIG, false, CopyListener.NONE));
        assertTrue(e.getMessage().startsWith("table public.big already has rows on destination dst shard 0 ("), e.getMessage());

        try (ChildJvm retry = ChildJvm.start(CopyMain.class.getName(), List.of("-Xmx48m"),
                List.of(toml.toString(), "big", "retry"))) {
            assertEquals(0, retry.waitFor(120, TimeUnit.SECONDS), retry::output);
            assertTrue(retry.output().contains("done " + sourceRows), retry::output);
        }
        assertTrue(tableBytes > 2 * 48L * 1024 * 1024, "the table is larger than the retry's heap: " + tableBytes);
        assertEquals(sourceRows, dst0.queryLong("SELECT count(*) FROM big") + dst1.queryLong("SELECT count(*) FROM big"));
        assertEquals(0, dst0.queryLong("SELECT count(*) FROM big WHERE id = -1"));
        assertTrue(new Verifier(config, connector).verify(TASK).ok());
        assertEquals(0, src.queryLong("SELECT count(*) FROM pg_replication_slots WHERE database = current_database()"));
    }
}
