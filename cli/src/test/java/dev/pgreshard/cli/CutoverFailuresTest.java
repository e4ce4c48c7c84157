package dev.pgreshard.cli;

import dev.pgreshard.cli.load.WriteLoad;
import dev.pgreshard.testkit.FreePorts;
import dev.pgreshard.testkit.PostgresExtension;
import dev.pgreshard.testkit.TestDatabase;
import dev.pgreshard.workflows.reshard.ReshardInput;
import dev.pgreshard.workflows.reshard.ReshardOptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Cutovers that must not happen, under a live write load: a pause over budget, a registered proxy
 * that does not answer, a destination shard that is down. Each attempt leaves traffic on the source
 * with no client error and nothing paused; the task keeps replicating, and the cutover that follows
 * the repair moves every acknowledged write.
 */
@ExtendWith(PostgresExtension.class)
class CutoverFailuresTest {

    @Test
    void failedCutoversKeepTrafficOnTheSourceAndLoseNothing(TestDatabase control, TestDatabase src, TestDatabase d0,
                                                            TestDatabase d1, @TempDir Path dir) throws Exception {
        CutoverScenario s = CutoverScenario.create(dir, control, src, d0, d1, "");
        s.createSourceTables();
        try (CutoverScenario.Services services = s.startServices()) {
            ProxyHost proxy = services.proxy();
            // the load as before keyed_ids: the proxy stays in pass-through here until the last cutover, and that
            // cutover's catch-up was already close to its 300 s on this machine
            WriteLoad load = s.startLoad(List.of(CutoverScenario.SERIAL_IDS, CutoverScenario.IDENTITY_IDS));

            // 1. a pause budget no cutover can meet: aborted, resumed on the source, reverse slots dropped. The
            // budget comes with the task's input, as an outside Temporal client gives it (options it leaves out
            // take the worker's pgreshard.toml)
            String overBudget = "reshard-src-dst-tight";
            services.startTask(overBudget, new ReshardInput("src", "dst", "pub",
                    new ReshardOptions(true, null, null, 1L, null, null, null, null)));
            s.awaitStatus(overBudget, "WAITING_FOR_CUTOVER");
            assertEquals(0, s.cli("cutover", overBudget).exit());
            String status = s.awaitAttempts(overBudget, 1);
            assertTrue(status.contains("NOT swapped") && status.contains("budget of 1 ms"), status);
            assertTrue(status.contains("traffic stays on src"), status);
            assertNotPausedAndOnSource(proxy, control);
            for (TestDatabase d : List.of(d0, d1)) {
                assertEquals(0, d.queryLong(CutoverScenario.SLOTS), "the aborted cutover's reverse slot is dropped");
            }
            assertEquals(0, s.cli("stop", overBudget).exit());
            s.assertNothingLeft();
            for (TestDatabase d : List.of(d0, d1)) {
                d.execute(CutoverScenario.TRUNCATE_MOVED);
            }

            // 2. a registered proxy that does not answer: nobody is paused
            String task = s.reshard("--manual-cutover");
            s.awaitStatus(task, "WAITING_FOR_CUTOVER");
            String gone = "http://127.0.0.1:" + FreePorts.next();
            control.execute("INSERT INTO pgreshard_proxy (control_url, host_name, process_id) VALUES ('" + gone + "', 'gone', 1)");
            assertEquals(0, s.cli("cutover", task).exit());
            status = s.awaitAttempts(task, 1);
            assertTrue(status.contains("NOT swapped") && status.contains("proxy " + gone + " unreachable"), status);
            assertNotPausedAndOnSource(proxy, control);
            control.execute("DELETE FROM pgreshard_proxy WHERE control_url = '" + gone + "'");

            // 3. a destination shard that is down: the cutover cannot even prepare
            src.execute("ALTER DATABASE " + d1.name() + " ALLOW_CONNECTIONS false",
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '" + d1.name() + "'");
            try {
                assertEquals(0, s.cli("cutover", task).exit());
                status = s.awaitAttempts(task, 2);
                assertTrue(status.lines().filter(l -> l.contains("NOT swapped")).count() == 2, status);
                assertTrue(status.contains(d1.name()), "the reason names the shard: " + status);
                assertNotPausedAndOnSource(proxy, control);
            } finally {
                src.execute("ALTER DATABASE " + d1.name() + " ALLOW_CONNECTIONS true");
            }

            // the repaired destination catches up and the next cutover moves everything
            assertEquals(0, s.cli("cutover", task).exit());
            status = s.awaitStatus(task, "phase: REVERSE_REPLICATING");
            assertTrue(status.lines().anyMatch(l -> l.contains("CUTOVER") && l.contains("  swapped")), status);
            Thread.sleep(1000);
            WriteLoad.Result result = load.stop();
            assertEquals(0, result.failed(), "client transactions failed: " + result.firstFailures());
            assertEquals(List.of(), s.missingOnDestination(result));
            assertEquals(List.of(), s.awaitNothingMissingOnSource(result));
            assertEquals(0, s.cli("finalize", task).exit());
            s.awaitStatus(task, "FINALIZED");
            s.assertNothingLeft();
        }
    }

    private static void assertNotPausedAndOnSource(ProxyHost proxy, TestDatabase control) {
        assertFalse(proxy.server().control().status(null).paused(), "the proxy was resumed");
        assertTrue(proxy.server().control().routing().stream().allMatch(r -> r.database().equals(r.cluster())),
                "every database still routed to its own cluster: " + proxy.server().control().routing());
        assertEquals(0, control.queryLong("SELECT count(*) FROM pgreshard_route"), "no route committed");
    }
}
