package dev.pgreshard.cli.faults;

import dev.pgreshard.cli.load.WriteLoad;
import dev.pgreshard.workflows.replication.Direction;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The fault matrix before the cutover (README "Fault matrix"): for each phase × fault, under a live
 * write load through the proxy, the task must still reach its cutover point; then, with the writes
 * stopped and replication drained, {@code verify} is clean, every acknowledged write is on the
 * source and on the destination shards, and stopping the task leaves no slot or publication.
 * Run with {@code mvn -B verify -pl cli -am -Pfaults} (one cell: {@code -Dpgreshard.faults.only=COPY:SOURCE_RESTART}).
 * Each cell writes its outcome to target/fault-matrix.md.
 */
@Tag("faults")
class FaultMatrixTest {
    private static final Logger LOG = LoggerFactory.getLogger(FaultMatrixTest.class);
    private static final Map<String, String> OUTCOMES = Collections.synchronizedMap(new TreeMap<>());

    static Stream<Arguments> cells() {
        return FaultCluster.cells("SCHEMA_PRE", "COPY", "REPLICATING");
    }

    @ParameterizedTest(name = "{1} during {0}")
    @MethodSource("cells")
    void theTaskReachesItsCutoverPointWithNothingLost(String phase, Fault fault, @TempDir Path dir) throws Exception {
        String cell = phase + " × " + fault;
        try (FaultCluster c = new FaultCluster(dir, 200_000)) {
            c.startWorker();
            c.startProxy();
            WriteLoad before = c.startLoad(FaultCluster.LOAD_BEFORE, "src");
            String taskId = c.reshardManually();

            c.awaitPhase(taskId, phase, Duration.ofMinutes(3));
            if (phase.equals("REPLICATING")) {
                Thread.sleep(1500); // mid-stream: the writers' changes are flowing
            }
            String hitIn = c.task(taskId).get(0);
            fault.inject(c);
            LOG.info("{}: injected in phase {}", cell, hitIn);
            WriteLoad.Result beforeResult = before.stop();
            WriteLoad after = startLoadWhenReachable(c);

            long t0 = System.nanoTime();
            c.awaitState(taskId, "WAITING_FOR_CUTOVER", Duration.ofMinutes(5));
            LOG.info("{}: at the cutover point {} s after the fault", cell, (System.nanoTime() - t0) / 1_000_000_000);
            Thread.sleep(2000); // writes after the recovery, replicated too
            WriteLoad.Result afterResult = after.stop();
            c.drain(taskId, Direction.FORWARD, Duration.ofMinutes(3));
            LOG.info("{}: drained {} s after the fault", cell, (System.nanoTime() - t0) / 1_000_000_000);

            FaultCluster.Cli verify = c.cli("verify", "src", "dst", "pub");
            assertEquals(0, verify.exit(), cell + ": verify\n" + verify.out() + verify.err());
            for (WriteLoad.Result load : List.of(beforeResult, afterResult)) {
                assertEquals(List.of(), FaultCluster.missing(load, c.src), cell + ": acknowledged writes missing on the source");
                assertEquals(List.of(), FaultCluster.missing(load, c.d0, c.d1),
                        cell + ": acknowledged writes missing on the destination");
            }
            assertTrue(afterResult.committed() > 0, cell + ": the application could not write after the fault: "
                    + afterResult.firstFailures());

            FaultCluster.Cli stopped = c.cli("stop", taskId);
            assertEquals(0, stopped.exit(), stopped.err());
            assertEquals(List.of(), c.leftovers(), cell + ": leaked after stop");
            String outcome = "completed (hit in " + hitIn + "); verify clean; " + (beforeResult.committed()
                    + afterResult.committed()) + " acknowledged writes all present; " + (beforeResult.failed()
                    + afterResult.failed()) + " client errors; activity failures logged " + c.activityFailures() + "; nothing leaked after stop";
            OUTCOMES.put(cell, outcome);
            LOG.info("{}: {}", cell, outcome);
        } catch (Throwable t) {
            OUTCOMES.put(cell, "FAILED: " + String.valueOf(t.getMessage()).lines().findFirst().orElse(""));
            throw t;
        }
    }

    /**
     * The Temporal test server keeps its state in memory, so a restart loses every workflow: the
     * documented outcome is that the task cannot resume, `stop` still drops everything it created
     * (OrphanCleanup), the application never notices (the proxy does not depend on Temporal), and a
     * new RESHARD of the pair (destination emptied, as the runbook says) completes cleanly.
     */
    @org.junit.jupiter.api.Test
    void aTemporalRestartLosesTheTaskButStopCleansUpAndANewTaskCompletes(@TempDir Path dir) throws Exception {
        String cell = "REPLICATING × TEMPORAL_RESTART";
        try (FaultCluster c = new FaultCluster(dir, 50_000)) {
            c.startWorker();
            c.startProxy();
            WriteLoad load = c.startLoad(FaultCluster.LOAD_BEFORE, "src");
            String lost = c.reshardManually();
            c.awaitState(lost, "WAITING_FOR_CUTOVER", Duration.ofMinutes(3));
            c.restartTemporal();

            FaultCluster.Cli status = c.cli("status", lost);
            assertTrue(status.out().contains("live status unavailable"), status.out() + status.err());
            FaultCluster.Cli stopped = c.cli("stop", lost);
            assertEquals(0, stopped.exit(), stopped.err());
            assertTrue(stopped.out().startsWith("phase: STOPPED"), stopped.out());
            assertEquals(List.of(), c.leftovers(), cell + ": stop of the lost task left these behind");

            for (dev.pgreshard.testkit.TestDatabase d : List.of(c.d0, c.d1)) {
                d.execute("TRUNCATE " + String.join(", ", FaultCluster.TABLES));
            }
            String taskId = c.reshardManually();
            c.awaitState(taskId, "WAITING_FOR_CUTOVER", Duration.ofMinutes(3));
            WriteLoad.Result result = load.stop();
            c.drain(taskId, Direction.FORWARD, Duration.ofMinutes(2));
            FaultCluster.Cli verify = c.cli("verify", "src", "dst", "pub");
            assertEquals(0, verify.exit(), verify.out() + verify.err());
            assertEquals(List.of(), FaultCluster.missing(result, c.src));
            assertEquals(List.of(), FaultCluster.missing(result, c.d0, c.d1));
            assertEquals(0, result.failed(), "the application noticed the Temporal restart: " + result.firstFailures());
            assertEquals(0, c.cli("stop", taskId).exit());
            assertEquals(List.of(), c.leftovers());
            OUTCOMES.put(cell, "task lost (in-memory server); `stop` dropped its slot (no leak); the application saw "
                    + "0 errors; a new RESHARD completed, verify clean, " + result.committed()
                    + " acknowledged writes all present");
        } catch (Throwable t) {
            OUTCOMES.put(cell, "FAILED: " + String.valueOf(t.getMessage()).lines().findFirst().orElse(""));
            throw t;
        }
    }

    /** After a proxy or server restart the first connections may be refused for a moment. */
    static WriteLoad startLoadWhenReachable(FaultCluster c) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (true) {
            try {
                return c.startLoad(FaultCluster.LOAD_AFTER, "src");
            } catch (java.sql.SQLException e) {
                if (System.nanoTime() > deadline) {
                    throw e;
                }
                Thread.sleep(500);
            }
        }
    }

    @AfterAll
    static void writeTable() throws Exception {
        writeTable("fault-matrix.md", OUTCOMES);
    }

    /** The outcomes as a Markdown table in target/{@code file} (the README's table is made from it). */
    static void writeTable(String file, Map<String, String> outcomes) throws Exception {
        StringBuilder md = new StringBuilder("| phase × fault | outcome |\n|---|---|\n");
        outcomes.forEach((cell, outcome) -> md.append("| ").append(cell).append(" | ").append(outcome).append(" |\n"));
        Path out = Path.of("target", file);
        Files.createDirectories(out.getParent());
        Files.writeString(out, md);
        LOG.info("fault matrix:\n{}", md);
    }
}
