package dev.pgreshard.cli.faults;

import dev.pgreshard.cli.load.WriteLoad;
import dev.pgreshard.testkit.TestDatabase;
import dev.pgreshard.workflows.TaskRef;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The fault matrix from the cutover on (README "Fault matrix"), under a live write load through the
 * proxy. CUTOVER: the fault lands while the cutover runs (a random moment within 300 ms of the task
 * recording phase CUTOVER); a cutover that did not swap is asked for again, as an operator would; the task must end
 * up with traffic on the destination, every acknowledged write there and — through reverse
 * replication — on the source, both sides verifying equal, and finalize leaving nothing behind.
 * REVERSE_REPLICATING: the fault lands while traffic is on the destination; then rollback must
 * bring traffic back to a source holding every acknowledged write, leaving nothing behind.
 * Run with {@code mvn -B verify -pl cli -am -Pfaults} (one cell: {@code -Dpgreshard.faults.only=CUTOVER:PROXY_SIGKILL}).
 */
@Tag("faults")
class CutoverFaultMatrixTest {
    private static final Logger LOG = LoggerFactory.getLogger(CutoverFaultMatrixTest.class);
    private static final Map<String, String> OUTCOMES = Collections.synchronizedMap(new TreeMap<>());
    private final Random random = new Random(Long.getLong("pgreshard.faults.seed", System.nanoTime()));

    static Stream<Arguments> cells() {
        return FaultCluster.cells("CUTOVER", "REVERSE_REPLICATING");
    }

    @ParameterizedTest(name = "{1} during {0}")
    @MethodSource("cells")
    void trafficEndsUpWhereTheOperatorSaidWithNothingLost(String phase, Fault fault, @TempDir Path dir) throws Exception {
        String cell = phase + " × " + fault;
        try (FaultCluster c = new FaultCluster(dir, 50_000)) {
            c.startWorker();
            c.startProxy();
            WriteLoad before = c.startLoad(FaultCluster.LOAD_BEFORE, "src");
            String taskId = c.reshardManually();
            c.awaitState(taskId, "WAITING_FOR_CUTOVER", Duration.ofMinutes(3));
            Thread.sleep(1000);

            signal(c, "cutover", taskId);
            if (phase.equals("CUTOVER")) {
                c.awaitPhase(taskId, "CUTOVER", Duration.ofMinutes(1)); // recorded just before the cutover activity
                Thread.sleep(random.nextInt(300));
            } else {
                c.awaitState(taskId, "WAITING_FOR_FINALIZE", Duration.ofMinutes(2));
                Thread.sleep(1500); // the application writes to the destination; reverse replication streams back
            }
            List<String> hit = c.task(taskId);
            fault.inject(c);
            LOG.info("{}: injected at {}", cell, hit);
            WriteLoad.Result beforeResult = before.stop();
            WriteLoad after = FaultMatrixTest.startLoadWhenReachable(c);

            int cutovers = 1;
            if (phase.equals("CUTOVER")) {
                cutovers = c.switchUntil(taskId, "cutover", "WAITING_FOR_FINALIZE", true, Duration.ofMinutes(5));
            }
            Thread.sleep(2000);
            WriteLoad.Result afterResult = after.stop();
            List<WriteLoad.Result> loads = List.of(beforeResult, afterResult);
            String endState;
            if (phase.equals("CUTOVER")) {
                for (WriteLoad.Result load : loads) {
                    assertEquals(List.of(), FaultCluster.missing(load, c.d0, c.d1), cell + ": acknowledged writes "
                            + "missing on the destination");
                }
                awaitNothingMissing(cell, loads, c.src); // reverse replication
                awaitVerifyClean(c, cell, "src", "dst", "pub");
                assertEquals(0, c.cli("finalize", taskId).exit());
                c.awaitState(taskId, "FINALIZED", Duration.ofMinutes(2));
                endState = "finalized after " + cutovers + " cutover request(s)";
            } else {
                awaitNothingMissing(cell, loads, c.src);
                awaitVerifyClean(c, cell, "dst", "src", new TaskRef(taskId, "src", "dst", "pub").reversePublication());
                c.switchUntil(taskId, "rollback", "ROLLED_BACK", false, Duration.ofMinutes(5));
                for (WriteLoad.Result load : loads) {
                    assertEquals(List.of(), FaultCluster.missing(load, c.src), cell + ": acknowledged writes missing "
                            + "on the source after rollback");
                }
                endState = "rolled back";
            }
            assertTrue(afterResult.committed() > 0, cell + ": no write after the fault: " + afterResult.firstFailures());
            assertEquals(List.of(), c.leftovers(), cell + ": leaked");
            String outcome = endState + " (hit at " + hit.get(0) + "/" + hit.get(1) + "); verify clean; "
                    + (beforeResult.committed() + afterResult.committed()) + " acknowledged writes all present; "
                    + (beforeResult.failed() + afterResult.failed()) + " client errors; longest stall "
                    + String.format(java.util.Locale.ROOT, "%.0f", Math.max(beforeResult.latency().maxMs(),
                    afterResult.latency().maxMs())) + " ms; activity failures logged "
                    + c.activityFailures() + "; nothing leaked";
            OUTCOMES.put(cell, outcome);
            LOG.info("{}: {}", cell, outcome);
        } catch (Throwable t) {
            OUTCOMES.put(cell, "FAILED: " + String.valueOf(t.getMessage()).lines().findFirst().orElse(""));
            throw t;
        }
    }

    private static void signal(FaultCluster c, String signal, String taskId) {
        FaultCluster.Cli r = c.cli(signal, taskId);
        assertEquals(0, r.exit(), signal + ": " + r.err());
    }

    private static void awaitNothingMissing(String cell, List<WriteLoad.Result> loads, TestDatabase... dbs)
            throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(90).toNanos();
        List<String> missing;
        do {
            missing = new ArrayList<>();
            for (WriteLoad.Result load : loads) {
                missing.addAll(FaultCluster.missing(load, dbs));
            }
            if (missing.isEmpty()) {
                return;
            }
            Thread.sleep(500);
        } while (System.nanoTime() < deadline);
        throw new AssertionError(cell + ": acknowledged writes missing on the source (reverse replication): " + missing);
    }

    /** verify, retried while reverse replication catches up (a lasting mismatch fails). */
    private static void awaitVerifyClean(FaultCluster c, String cell, String from, String to, String publication)
            throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(90).toNanos();
        FaultCluster.Cli verify;
        do {
            verify = c.cli("verify", from, to, publication);
            if (verify.exit() == 0) {
                return;
            }
            Thread.sleep(1000);
        } while (System.nanoTime() < deadline);
        throw new AssertionError(cell + ": verify " + from + " " + to + "\n" + verify.out() + verify.err());
    }

    @AfterAll
    static void writeTable() throws Exception {
        FaultMatrixTest.writeTable("fault-matrix-cutover.md", OUTCOMES);
    }
}
