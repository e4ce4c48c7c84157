package dev.pgreshard.workflows.reshard;

import io.temporal.common.WorkflowExecutionHistory;
import io.temporal.testing.TestWorkflowEnvironment;
import io.temporal.testing.WorkflowReplayer;
import io.temporal.worker.Worker;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertFalse;

/**
 * Replays saved histories of every path through the workflow against the current code: a change
 * that would break running tasks (non-determinism) fails here, before it reaches a worker.
 */
class ReshardWorkflowReplayTest {
    private static final Path HISTORIES = Path.of("src/test/resources/histories");

    static List<Path> histories() throws IOException {
        try (Stream<Path> files = Files.list(HISTORIES)) {
            List<Path> list = files.filter(p -> p.toString().endsWith(".json")).sorted().toList();
            assertFalse(list.isEmpty(), "no saved histories in " + HISTORIES);
            return list;
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("histories")
    void savedHistoryReplays(Path history) throws Exception {
        try (TestWorkflowEnvironment env = TestWorkflowEnvironment.newInstance()) {
            // registered as a real worker registers it: with the production activity options
            // the first replay loads the SDK's state machine classes: on a busy machine that alone exceeds the
            // default 1 s deadlock detection, which then fails a history that replays fine
            Worker worker = env.newWorker("replay", io.temporal.worker.WorkerOptions.newBuilder()
                    .setDefaultDeadlockDetectionTimeout(30_000).build());
            worker.registerWorkflowImplementationTypes(ReshardWorkerOptions.DEFAULTS.implementationOptions(),
                    ReshardWorkflowImpl.class);
            WorkflowReplayer.replayWorkflowExecution(WorkflowExecutionHistory.fromJson(Files.readString(history)), worker);
        }
    }
}
