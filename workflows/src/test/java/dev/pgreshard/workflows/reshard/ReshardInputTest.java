package dev.pgreshard.workflows.reshard;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.pgreshard.workflows.control.WorkerDefaults;
import dev.pgreshard.workflows.cutover.CutoverRequest;
import io.temporal.api.enums.v1.EventType;
import io.temporal.api.history.v1.HistoryEvent;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowFailedException;
import io.temporal.client.WorkflowOptions;
import io.temporal.client.WorkflowStub;
import io.temporal.common.converter.DefaultDataConverter;
import io.temporal.failure.ApplicationFailure;
import io.temporal.testing.TestWorkflowEnvironment;
import io.temporal.testing.TestWorkflowExtension;
import io.temporal.worker.Worker;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.mockito.ArgumentCaptor;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.mockito.ArgumentMatchers.any;
import static org.mockito.Mockito.never;
import static org.mockito.Mockito.verify;
import static org.mockito.Mockito.when;

/**
 * The workflow started as a Temporal client outside the project starts it: untyped, by type name,
 * with JSON-shaped arguments. Every malformed shape fails the workflow at once, naming the field,
 * with no workflow-task retry loop; a good one takes the worker's defaults for what it leaves out.
 */
class ReshardInputTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @RegisterExtension
    static final TestWorkflowExtension TEMPORAL = TestWorkflowExtension.newBuilder()
            .registerWorkflowImplementationTypes(FakeActivities.WORKER_OPTIONS.implementationOptions(),
                    ReshardWorkflowImpl.class)
            .setDoNotStart(true)
            .build();

    private final FakeActivities fake = new FakeActivities();

    record Shape(String name, List<Object> args, String mustName) {
        @Override
        public String toString() {
            return name;
        }
    }

    static Stream<Shape> malformed() throws Exception {
        return Stream.of(
                new Shape("positional arguments", List.of("prod", "prod_sharded", "pub", Map.of()), "one JSON object"),
                new Shape("manualCutover \"yes\"", List.of(json("{\"source\":\"prod\",\"destination\":\"prod_sharded\","
                        + "\"publication\":\"pub\",\"options\":{\"manualCutover\":\"yes\"}}")), "options.manualCutover"),
                new Shape("copyParallelism \"two\"", List.of(json("{\"source\":\"prod\",\"destination\":\"prod_sharded\","
                        + "\"publication\":\"pub\",\"options\":{\"copyParallelism\":\"two\"}}")), "options.copyParallelism"),
                new Shape("options alone", List.of(json("{\"manualCutover\":\"yes\"}")), "\"manualCutover\""),
                new Shape("snake_case option", List.of(json("{\"source\":\"prod\",\"destination\":\"prod_sharded\","
                        + "\"publication\":\"pub\",\"options\":{\"manual_cutover\":true}}")), "did you mean \"manualCutover\""),
                new Shape("snake_case at the top", List.of(json("{\"source\":\"prod\",\"destination\":\"prod_sharded\","
                        + "\"publication\":\"pub\",\"manual_cutover\":true}")), "options go inside \"options\""),
                new Shape("missing publication", List.of(json("{\"source\":\"prod\",\"destination\":\"prod_sharded\"}")),
                        "\"publication\" is missing"),
                new Shape("blank source", List.of(json("{\"source\":\" \",\"destination\":\"prod_sharded\","
                        + "\"publication\":\"pub\"}")), "\"source\" is blank"),
                new Shape("number as a name", List.of(json("{\"source\":\"prod\",\"destination\":7,\"publication\":\"pub\"}")),
                        "\"destination\" must be a string"),
                new Shape("negative threshold", List.of(json("{\"source\":\"prod\",\"destination\":\"prod_sharded\","
                        + "\"publication\":\"pub\",\"options\":{\"lagThresholdBytes\":-1}}")), "options.lagThresholdBytes"),
                new Shape("options not an object", List.of(json("{\"source\":\"prod\",\"destination\":\"prod_sharded\","
                        + "\"publication\":\"pub\",\"options\":[true]}")), "\"options\" must be a JSON object"),
                new Shape("no input", List.of(), "the input is empty"),
                new Shape("bytes", List.of((Object) new byte[] {1, 2, 3}), ""));
    }

    private static Object json(String text) throws Exception {
        return JSON.readTree(text);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("malformed")
    void malformedInputFailsAtOnceNamingTheField(Shape shape, TestWorkflowEnvironment env, Worker worker,
                                                WorkflowClient client) {
        worker.registerActivitiesImplementations(fake.all());
        env.start();
        WorkflowStub stub = client.newUntypedWorkflowStub(ReshardWorkflow.TYPE, WorkflowOptions.newBuilder()
                .setWorkflowId("outside-1").setTaskQueue(worker.getTaskQueue()).build());
        stub.start(shape.args().toArray());
        WorkflowFailedException e = assertThrows(WorkflowFailedException.class,
                () -> stub.getResult(20, TimeUnit.SECONDS, ReshardStatus.class));
        ApplicationFailure failure = assertInstanceOf(ApplicationFailure.class, e.getCause());
        if (shape.mustName().isEmpty()) { // not JSON at all: Temporal's converter refuses it, failing the workflow
            assertTrue(failure.getType().endsWith("DataConverterException"), failure.getType());
        } else {
            assertEquals(ReshardInput.INVALID_INPUT, failure.getType());
            assertTrue(failure.isNonRetryable());
        }
        assertTrue(failure.getOriginalMessage().contains(shape.mustName()), failure.getOriginalMessage());
        List<HistoryEvent> events = client.fetchHistory("outside-1").getEvents();
        assertTrue(events.stream().noneMatch(ev -> ev.getEventType() == EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED),
                "no workflow-task retry loop: " + events.stream().map(HistoryEvent::getEventType).toList());
        verify(fake.control, never()).claimTask(any());
        verify(fake.preflight, never()).check(any());
    }

    @Test
    void optionsLeftOutTakeTheWorkersConfigAndTheMemoNamesThePair(TestWorkflowEnvironment env, Worker worker,
                                                                   WorkflowClient client) throws Exception {
        when(fake.control.claimTask(any())).thenReturn(new WorkerDefaults(3, 123L, 777L));
        worker.registerActivitiesImplementations(fake.all());
        env.start();
        WorkflowStub stub = client.newUntypedWorkflowStub(ReshardWorkflow.TYPE, WorkflowOptions.newBuilder()
                .setWorkflowId("outside-2").setTaskQueue(worker.getTaskQueue()).build());
        // as `temporal workflow start --input '{...}'` sends it: one JSON object, options partly given
        stub.start(json("{\"source\":\"prod\",\"destination\":\"prod_sharded\",\"publication\":\"pub\","
                + "\"options\":{\"fenceSource\":true,\"lagPollSeconds\":1}}"));
        ReshardWorkflow wf = client.newWorkflowStub(ReshardWorkflow.class, "outside-2");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (System.nanoTime() < deadline && (wf.status() == null || wf.status().phase() != Phase.REVERSE_REPLICATING)) {
            Thread.sleep(50);
        }
        ArgumentCaptor<CutoverRequest> cut = ArgumentCaptor.forClass(CutoverRequest.class);
        verify(fake.cutover).cutover(cut.capture());
        assertEquals(777L, cut.getValue().pauseBudgetMs(), "pause budget from the worker's config");
        assertTrue(cut.getValue().fenceSource(), "fenceSource from the input");
        verify(fake.control).claimTask(any());

        var memo = client.fetchHistory("outside-2").getEvents().stream()
                .filter(ev -> ev.getEventType() == EventType.EVENT_TYPE_WORKFLOW_PROPERTIES_MODIFIED).findFirst()
                .orElseThrow().getWorkflowPropertiesModifiedEventAttributes().getUpsertedMemo().getFieldsMap();
        var converter = DefaultDataConverter.newDefaultInstance();
        assertEquals("prod", converter.fromPayload(memo.get("source"), String.class, String.class));
        assertEquals("prod_sharded", converter.fromPayload(memo.get("destination"), String.class, String.class));
        assertEquals("pub", converter.fromPayload(memo.get("publication"), String.class, String.class));

        wf.finalizeTask(false);
        assertEquals(TaskState.FINALIZED, stub.getResult(ReshardStatus.class).state());
    }

    @Test
    void aMistypedSignalIsReportedNotDropped(TestWorkflowEnvironment env, Worker worker, WorkflowClient client)
            throws Exception {
        worker.registerActivitiesImplementations(fake.all());
        env.start();
        WorkflowStub stub = client.newUntypedWorkflowStub(ReshardWorkflow.TYPE, WorkflowOptions.newBuilder()
                .setWorkflowId("outside-3").setTaskQueue(worker.getTaskQueue()).build());
        stub.start(new ReshardInput("prod", "prod_sharded", "pub",
                new ReshardOptions(true, null, null, null, null, null, null, null)));
        ReshardWorkflow wf = client.newWorkflowStub(ReshardWorkflow.class, "outside-3");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (System.nanoTime() < deadline && (wf.status() == null || wf.status().state() != TaskState.WAITING_FOR_CUTOVER)) {
            Thread.sleep(50);
        }
        stub.signal("cutovr");
        ReshardStatus s = null;
        while (System.nanoTime() < deadline) {
            s = wf.status();
            if (s.warnings().stream().anyMatch(w -> w.contains("unknown signal 'cutovr'"))) {
                break;
            }
            Thread.sleep(50);
        }
        assertTrue(s.warnings().stream().anyMatch(w -> w.equals(
                "unknown signal 'cutovr' ignored; the signals are cutover, rollback and finalize")), s.warnings().toString());
        assertEquals(TaskState.WAITING_FOR_CUTOVER, s.state());
        stub.cancel();
    }
}
