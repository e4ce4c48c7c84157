package dev.pgreshard.testkit;

import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowClientOptions;
import io.temporal.client.WorkflowOptions;
import io.temporal.serviceclient.WorkflowServiceStubs;
import io.temporal.testing.TestWorkflowEnvironment;
import io.temporal.testing.TestWorkflowExtension;
import io.temporal.worker.Worker;
import io.temporal.worker.WorkerFactory;
import io.temporal.worker.WorkerOptions;
import io.temporal.workflow.Workflow;
import io.temporal.workflow.WorkflowInterface;
import io.temporal.workflow.WorkflowMethod;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

/** Both Temporal fixtures run a real workflow: in-process, and the test server in its own JVM. */
class TemporalFixturesTest {

    @WorkflowInterface
    public interface GreetingWorkflow {
        @WorkflowMethod
        String greet(String name);
    }

    public static class GreetingWorkflowImpl implements GreetingWorkflow {
        @Override
        public String greet(String name) {
            Workflow.sleep(Duration.ofMinutes(5)); // skipped by the in-process server's time skipping
            return "hello " + name;
        }
    }

    @RegisterExtension
    static final TestWorkflowExtension TEMPORAL = TestWorkflowExtension.newBuilder()
            .registerWorkflowImplementationTypes(GreetingWorkflowImpl.class)
            .build();

    @Test
    void inProcessEnvironmentRunsAWorkflow(TestWorkflowEnvironment env, WorkflowClient client, WorkflowOptions options) {
        GreetingWorkflow wf = client.newWorkflowStub(GreetingWorkflow.class, options);
        assertEquals("hello shard", wf.greet("shard"));
        assertFalse(env.getNamespace().isEmpty());
    }

    @Test
    void standaloneServerInAChildJvmServesAnotherProcessesWorker() {
        try (StandaloneTemporalServer server = StandaloneTemporalServer.start()) {
            WorkflowServiceStubs stubs = server.newServiceStubs();
            try {
                WorkflowClient client = WorkflowClient.newInstance(stubs,
                        WorkflowClientOptions.newBuilder().setNamespace("default").build());
                WorkerFactory factory = WorkerFactory.newInstance(client);
                Worker worker = factory.newWorker("fixture-test", WorkerOptions.newBuilder()
                        .setStickyQueueScheduleToStartTimeout(Duration.ZERO).build());
                worker.registerWorkflowImplementationTypes(QuickGreetingWorkflowImpl.class);
                factory.start();
                GreetingWorkflow wf = client.newWorkflowStub(GreetingWorkflow.class,
                        WorkflowOptions.newBuilder().setTaskQueue("fixture-test").setWorkflowId("fixture-1").build());
                assertEquals("hello child", wf.greet("child"));
                factory.shutdownNow();
            } finally {
                stubs.shutdownNow();
            }
        }
    }

    public static class QuickGreetingWorkflowImpl implements GreetingWorkflow {
        @Override
        public String greet(String name) {
            return "hello " + name;
        }
    }
}
