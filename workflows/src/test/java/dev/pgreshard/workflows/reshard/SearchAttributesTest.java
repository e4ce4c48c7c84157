package dev.pgreshard.workflows.reshard;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.pgreshard.workflows.control.WorkerDefaults;
import io.temporal.api.enums.v1.EventType;
import io.temporal.api.enums.v1.IndexedValueType;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowOptions;
import io.temporal.client.WorkflowStub;
import io.temporal.common.SearchAttributes;
import io.temporal.testing.TestWorkflowEnvironment;
import io.temporal.testing.TestWorkflowExtension;
import io.temporal.worker.Worker;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.mockito.ArgumentMatchers.any;
import static org.mockito.Mockito.when;

/**
 * Issue 17 D1: the task's search attributes (PgreshardSource, PgreshardDestination, PgreshardPhase)
 * are set where the namespace has them and left out where it has not, on Temporal's test server,
 * which refuses an unregistered attribute like a real server does (shown by the last test).
 */
class SearchAttributesTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String INPUT = "{\"source\":\"prod\",\"destination\":\"prod_sharded\",\"publication\":\"pub\","
            + "\"options\":{\"lagPollSeconds\":1}}";

    @RegisterExtension
    static final TestWorkflowExtension TEMPORAL = TestWorkflowExtension.newBuilder()
            .registerWorkflowImplementationTypes(FakeActivities.WORKER_OPTIONS.implementationOptions(),
                    ReshardWorkflowImpl.class)
            // a loaded machine must not fail a workflow task as a "deadlock"
            .setWorkerOptions(io.temporal.worker.WorkerOptions.newBuilder().setDefaultDeadlockDetectionTimeout(30_000).build())
            .setDoNotStart(true)
            .build();

    private final FakeActivities fake = new FakeActivities();

    @Test
    void registeredAttributesNameThePairAndFollowThePhase(TestWorkflowEnvironment env, Worker worker, WorkflowClient client)
            throws Exception {
        for (String name : TaskSearchAttributes.NAMES) {
            env.registerSearchAttribute(name, IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD);
        }
        when(fake.control.claimTask(any())).thenReturn(new WorkerDefaults(2, 1_048_576L, 1000L, TaskSearchAttributes.NAMES));
        worker.registerActivitiesImplementations(fake.all());
        env.start();
        WorkflowStub stub = start(client, worker, "sa-registered");
        awaitPhase(client, "sa-registered", Phase.REVERSE_REPLICATING);
        SearchAttributes running = stub.describe().getTypedSearchAttributes();
        assertEquals("prod", running.get(TaskSearchAttributes.SOURCE));
        assertEquals("prod_sharded", running.get(TaskSearchAttributes.DESTINATION));
        assertEquals("REVERSE_REPLICATING", running.get(TaskSearchAttributes.PHASE));

        client.newWorkflowStub(ReshardWorkflow.class, "sa-registered").finalizeTask(false);
        assertEquals(TaskState.FINALIZED, stub.getResult(ReshardStatus.class).state());
        assertEquals("DONE", stub.describe().getTypedSearchAttributes().get(TaskSearchAttributes.PHASE));
        assertNoWorkflowTaskFailed(client, "sa-registered");
        if (Boolean.getBoolean("pgreshard.saveHistories")) { // for ReshardWorkflowReplayTest
            java.nio.file.Files.writeString(java.nio.file.Path.of("src/test/resources/histories",
                    "v3-search-attributes-finalized.json"), client.fetchHistory("sa-registered").toJson(true));
        }
    }

    @Test
    void withoutThemTheTaskRunsAndSetsNone(TestWorkflowEnvironment env, Worker worker, WorkflowClient client)
            throws Exception {
        when(fake.control.claimTask(any())).thenReturn(new WorkerDefaults(2, 1_048_576L, 1000L, java.util.List.of()));
        worker.registerActivitiesImplementations(fake.all());
        env.start();
        WorkflowStub stub = start(client, worker, "sa-none");
        awaitPhase(client, "sa-none", Phase.REVERSE_REPLICATING);
        client.newWorkflowStub(ReshardWorkflow.class, "sa-none").finalizeTask(false);
        assertEquals(TaskState.FINALIZED, stub.getResult(ReshardStatus.class).state());
        SearchAttributes none = stub.describe().getTypedSearchAttributes();
        assertNull(none.get(TaskSearchAttributes.SOURCE));
        assertNull(none.get(TaskSearchAttributes.PHASE));
        assertNoWorkflowTaskFailed(client, "sa-none");
    }

    /** Why the claim asks first: an upsert of an attribute the namespace lacks fails the workflow task, in a loop. */
    @Test
    void anUnregisteredAttributeWouldFailTheWorkflowTask(TestWorkflowEnvironment env, Worker worker, WorkflowClient client)
            throws Exception {
        when(fake.control.claimTask(any())).thenReturn(new WorkerDefaults(2, 1_048_576L, 1000L, TaskSearchAttributes.NAMES));
        worker.registerActivitiesImplementations(fake.all());
        env.start();
        WorkflowStub stub = start(client, worker, "sa-wrong");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!workflowTaskFailed(client, "sa-wrong")) {
            if (System.nanoTime() > deadline) {
                fail("the test server accepted an unregistered search attribute: this test no longer shows the loop");
            }
            Thread.sleep(100);
        }
        stub.terminate("test done");
    }

    private static WorkflowStub start(WorkflowClient client, Worker worker, String id) throws Exception {
        WorkflowStub stub = client.newUntypedWorkflowStub(ReshardWorkflow.TYPE, WorkflowOptions.newBuilder()
                .setWorkflowId(id).setTaskQueue(worker.getTaskQueue()).build());
        stub.start(JSON.readTree(INPUT));
        return stub;
    }

    private static void awaitPhase(WorkflowClient client, String id, Phase phase) throws InterruptedException {
        ReshardWorkflow wf = client.newWorkflowStub(ReshardWorkflow.class, id);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (wf.status() == null || wf.status().phase() != phase) {
            assertTrue(System.nanoTime() < deadline, "never reached " + phase + ": " + wf.status());
            Thread.sleep(50);
        }
    }

    private static boolean workflowTaskFailed(WorkflowClient client, String id) {
        return client.fetchHistory(id).getEvents().stream()
                .anyMatch(e -> e.getEventType() == EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED);
    }

    private static void assertNoWorkflowTaskFailed(WorkflowClient client, String id) {
        assertFalse(workflowTaskFailed(client, id), "a workflow task failed in " + id);
    }
}
