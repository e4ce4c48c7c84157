package dev.pgreshard.cli;

import dev.pgreshard.cli.load.WriteLoad;
import dev.pgreshard.testkit.PostgresExtension;
import dev.pgreshard.testkit.TestDatabase;
import dev.pgreshard.workflows.TaskRef;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The whole life of a task under a live application (8 clients writing through the proxy, every
 * acknowledged write recorded): RESHARD with automatic cutover, rollback, RESHARD again, finalize.
 * Nothing may fail on the client side, every acknowledged write must be where traffic went, both
 * sides must verify clean, and nothing may be left behind (slots, publications, paused proxies).
 */
@ExtendWith(PostgresExtension.class)
class CutoverEndToEndTest {
    private static final Logger log = LoggerFactory.getLogger(CutoverEndToEndTest.class);

    @Test
    void reshardRollbackReshardFinalizeUnderLoad(TestDatabase control, TestDatabase src, TestDatabase d0, TestDatabase d1,
                                                 @TempDir Path dir) throws Exception {
        CutoverScenario s = CutoverScenario.create(dir, control, src, d0, d1, "cutover_pause_budget_ms = 1000\n");
        s.createSourceTables();
        // an application role of its own, for fencing (roles are global on the shared test server)
        String app = "app_" + src.name();
        src.execute("CREATE ROLE " + app + " LOGIN PASSWORD 'app-pw'", "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO " + app);
        java.nio.file.Files.writeString(dir.resolve("users.toml"), "[[users]]\nname = \"" + app + "\"\ndatabase = \"src\"\n"
                + "password = \"app-pw\"\n", java.nio.file.StandardOpenOption.APPEND);

        try (CutoverScenario.Services services = s.startServices()) {
            ProxyHost proxy = services.proxy();
            WriteLoad load = s.startLoad();

            // 1. RESHARD with automatic cutover, fencing the source
            String first = s.reshard("--fence-source");
            String status = s.awaitStatus(first, "phase: REVERSE_REPLICATING");
            log.info("after the first cutover:\n{}", status);
            assertTrue(status.lines().anyMatch(l -> l.contains("CUTOVER") && l.contains("  swapped")), status);
            assertFenced(src, app, true);
            // each step of the pause is in the worker's step timer, recorded once the clients ran again
            for (String step : List.of("pause", "markers", "drain", "sequences", "commit", "swap and resume")) {
                assertTrue(dev.pgreshard.core.metrics.Metrics.registry().find("pgreshard.cutover.step").tag("step", step)
                        .timers().stream().mapToLong(io.micrometer.core.instrument.Timer::count).sum() >= 1, step);
            }
            Thread.sleep(1500);
            long newOrderId = insertOrderThroughProxy(s.proxyUrl());
            assertTrue(newOrderId > 100, "the destination's sequence continues past the source's: got id " + newOrderId);
            assertEquals(1, d0.queryLong("SELECT count(*) FROM orders WHERE id = " + newOrderId)
                    + d1.queryLong("SELECT count(*) FROM orders WHERE id = " + newOrderId), "new order is on the destination");
            // the load's serial and identity tables: every shard draws its own ids (spaced: increment 2)
            awaitIdsDrawnOnEveryShard(s);
            assertEquals(List.of(), s.idsOnSeveralShards(), "an id drawn on more than one shard");
            // keyed_ids is sharded by its id and inserted without it: the proxy drew its ids from shard 0's spaced sequence
            assertEquals(1, d0.queryLong("SELECT count(*) FROM pg_sequences WHERE sequencename = 'keyed_ids_id_seq' "
                    + "AND increment_by = 2 AND last_value IS NOT NULL"), "the proxy drew keyed_ids ids on shard 0");

            // 2. rollback: traffic back on the source, which has everything written meanwhile
            assertEquals(0, s.cli("rollback", first).exit());
            status = s.awaitStatus(first, "phase: DONE");
            assertTrue(status.contains("ROLLED_BACK"), status);
            assertEquals(1, src.queryLong("SELECT count(*) FROM orders WHERE id = " + newOrderId), "reverse replication carried it back");
            // every write acknowledged so far (ids drawn on the shards included) is on the source, which draws past them
            assertEquals(List.of(), s.awaitNothingMissingOnSource(load.acknowledgedSoFar()), "acknowledged writes on the source");
            assertFenced(src, app, false);
            s.assertNothingLeft();
            Thread.sleep(1500);

            // 3. RESHARD again (the destination is emptied first, as the runbook says) and finalize
            for (TestDatabase d : List.of(d0, d1)) {
                d.execute(CutoverScenario.TRUNCATE_MOVED);
            }
            String second = s.reshard();
            status = s.awaitStatus(second, "phase: REVERSE_REPLICATING");
            log.info("after the second cutover:\n{}", status);
            Thread.sleep(1500);
            WriteLoad.Result result = load.stop();
            log.info("write load: {} committed, {} failed, {}", result.committed(), result.failed(), result.latency());

            assertEquals(0, result.failed(), "client transactions failed: " + result.firstFailures());
            assertTrue(result.committed() > 100, "the load wrote: " + result.committed());
            assertEquals(List.of(), s.missingOnDestination(result), "acknowledged writes on the destination");
            assertEquals(List.of(), s.awaitNothingMissingOnSource(result), "reverse replication keeps the source complete");
            ShardCommandTest.Result forward = s.cli("verify", "src", "dst", "pub");
            assertEquals(0, forward.exit(), forward.out() + forward.err());
            String reversePublication = new TaskRef(second, "src", "dst", "pub").reversePublication();
            ShardCommandTest.Result backward = s.cli("verify", "dst", "src", reversePublication);
            assertEquals(0, backward.exit(), backward.out() + backward.err());

            assertEquals(List.of(), s.idsOnSeveralShards(), "an id drawn on more than one shard");
            ShardCommandTest.Result finalized = s.cli("finalize", second);
            assertEquals(0, finalized.exit(), finalized.out() + finalized.err());
            status = s.awaitStatus(second, "phase: DONE");
            assertTrue(status.contains("FINALIZED"), status);
            assertEquals(List.of(), s.missingOnDestination(result), "acknowledged writes on the shards after finalize");
            s.assertNothingLeft();
            assertEquals(false, proxy.server().control().status(null).paused(), "the proxy is not left paused");
            log.info("commit latency over the whole run (the longest is the longest client-visible stall): {}",
                    result.latency());
        }
    }

    /** Waits until both shards have drawn ids of their own, from sequences spaced for 2 shards, for both id tables. */
    private static void awaitIdsDrawnOnEveryShard(CutoverScenario s) throws InterruptedException {
        long deadline = System.currentTimeMillis() + 30_000;
        while (true) {
            boolean all = true;
            for (TestDatabase d : s.dst) {
                all &= d.queryLong("SELECT count(*) FROM pg_sequences WHERE sequencename IN ('serial_ids_id_seq', "
                        + "'identity_ids_id_seq') AND increment_by = 2 AND last_value IS NOT NULL") == 2;
            }
            if (all) {
                return;
            }
            assertTrue(System.currentTimeMillis() < deadline, "a shard drew no id of its own within 30 s");
            Thread.sleep(200);
        }
    }

    /** Whether the application role may write the moved tables on the source (fenced after cutover, not after rollback). */
    private static void assertFenced(TestDatabase src, String role, boolean fenced) {
        long writable = src.queryLong("SELECT count(*) FROM unnest(ARRAY['events', 'orders', 'plans']) t "
                + "WHERE has_table_privilege('" + role + "', t, 'INSERT')");
        assertEquals(fenced ? 0 : 3, writable, role + (fenced ? " must not" : " must") + " write the source's moved tables");
    }

    private static long insertOrderThroughProxy(String url) throws Exception {
        try (Connection c = DriverManager.getConnection(url, "postgres", "postgres");
             Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("INSERT INTO orders (customer_id, note) VALUES (5, 'after cutover') RETURNING id")) {
            rs.next();
            return rs.getLong(1);
        }
    }
}
