package dev.pgreshard.cli.faults;

import dev.pgreshard.cli.load.WriteLoad;
import dev.pgreshard.testkit.TestDatabase;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Soak: continuous writes through the proxy while reshard → cutover → rollback cycles repeat, for
 * {@code -Dpgreshard.soak.minutes} (default 60). Every few seconds it samples the worker's and the
 * proxy's heap after a full GC, the WAL the replication slots retain on source and destination,
 * and the connections on both servers; at the end no series may grow without bound (the last
 * third's peak against the first third's, with a slack for noise), no acknowledged write may be
 * missing, and nothing may be leaked. Samples go to target/soak-samples.csv.
 * Run: {@code mvn -B verify -pl cli -am -Psoak -Dpgreshard.soak.minutes=5}.
 */
@Tag("soak")
class SoakTest {
    private static final Logger LOG = LoggerFactory.getLogger(SoakTest.class);
    private static final List<String> TABLES = FaultCluster.TABLES;

    @Test
    void repeatedCyclesUnderLoadDoNotGrowWithoutBound(@TempDir Path dir) throws Exception {
        Duration length = Duration.ofMinutes(Long.getLong("pgreshard.soak.minutes", 60));
        try (FaultCluster c = new FaultCluster(dir, 20_000)) {
            c.startWorker();
            c.startProxy();
            WriteLoad load = c.startLoad(FaultCluster.LOAD_BEFORE, "src");
            SoakSamples samples = new SoakSamples(c);
            ScheduledExecutorService sampler = Executors.newSingleThreadScheduledExecutor();
            sampler.scheduleWithFixedDelay(samples::take, 0, 5, TimeUnit.SECONDS);
            long end = System.nanoTime() + length.toNanos();
            int cycles = 0;
            List<String> cycleLog = new ArrayList<>();
            try {
                while (System.nanoTime() < end || cycles < 2) {
                    long started = System.nanoTime();
                    String requests = cycle(c);
                    cycles++;
                    String line = "cycle " + cycles + " (" + requests + ") in " + (System.nanoTime() - started) / 1_000_000 + " ms; writes so far "
                            + load.committed();
                    cycleLog.add(line);
                    LOG.info("soak: {}", line);
                }
            } finally {
                sampler.shutdown();
                sampler.awaitTermination(30, TimeUnit.SECONDS);
            }
            WriteLoad.Result result = load.stop();
            Files.createDirectories(Path.of("target"));
            Files.writeString(Path.of("target", "soak-samples.csv"), samples.csv());
            LOG.info("soak: {} cycles, {} writes acknowledged, {} failed, longest stall {}; samples:\n{}", cycles,
                    result.committed(), result.failed(), result.latency(), samples.csv());

            assertEquals(List.of(), FaultCluster.missing(result, c.src), "acknowledged writes missing after " + cycles
                    + " cycles");
            assertEquals(List.of(), c.leftovers(), "leaked after " + cycles + " cycles");
            assertTrue(result.committed() > 0);
            List<String> growing = samples.unboundedGrowth();
            assertTrue(growing.isEmpty(), "grows over the run: " + growing + "\n" + samples.csv());
        }
    }

    /**
     * reshard → cutover → (writes on the destination) → rollback, then the destination is emptied for
     * the next. A switch refused because it would overrun the pause budget (this machine is busy) is
     * asked for again, as an operator would; the counts are logged.
     */
    private static String cycle(FaultCluster c) throws Exception {
        String taskId = c.reshardManually();
        c.awaitState(taskId, "WAITING_FOR_CUTOVER", Duration.ofMinutes(5));
        int cutovers = c.switchUntil(taskId, "cutover", "WAITING_FOR_FINALIZE", false, Duration.ofMinutes(5));
        Thread.sleep(3000); // the application writes to the destination; reverse replication carries it back
        int rollbacks = c.switchUntil(taskId, "rollback", "ROLLED_BACK", false, Duration.ofMinutes(5));
        for (TestDatabase d : List.of(c.d0, c.d1)) { // the runbook: empty the destination before the next RESHARD
            d.execute("TRUNCATE " + String.join(", ", TABLES));
        }
        return taskId + ": " + cutovers + " cutover and " + rollbacks + " rollback request(s)";
    }
}
