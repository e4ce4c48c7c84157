package dev.pgreshard.workflows.reshard;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.pgreshard.core.pg.Lsn;
import dev.pgreshard.workflows.copy.ShardSnapshot;
import dev.pgreshard.workflows.replication.Direction;
import dev.pgreshard.workflows.replication.ReplicationRequest;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowFailedException;
import io.temporal.client.WorkflowOptions;
import io.temporal.client.WorkflowStub;
import io.temporal.testing.TestWorkflowEnvironment;
import io.temporal.testing.TestWorkflowExtension;
import io.temporal.worker.Worker;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.mockito.ArgumentMatchers.any;
import static org.mockito.Mockito.doAnswer;
import static org.mockito.Mockito.when;

/**
 * A stop while the forward slots are being created (slot creation waits for the source's running
 * transactions, for minutes with a long one) must not drop the slots before the attempt has ended:
 * the attempt would create its slot after the cleanup, and nothing would ever drop it (a stranded slot
 * holds WAL on the source for ever).
 */
class SlotCleanupOrderTest {
    @RegisterExtension
    static final TestWorkflowExtension TEMPORAL = TestWorkflowExtension.newBuilder()
            .registerWorkflowImplementationTypes(FakeActivities.WORKER_OPTIONS.implementationOptions(),
                    ReshardWorkflowImpl.class)
            .setWorkerOptions(io.temporal.worker.WorkerOptions.newBuilder().setDefaultDeadlockDetectionTimeout(30_000).build())
            .setDoNotStart(true)
            .build();

    private final FakeActivities fake = new FakeActivities();

    @Test
    void stopDuringSlotCreationDropsTheSlotsAfterTheAttemptEnded(TestWorkflowEnvironment env, Worker worker,
                                                                 WorkflowClient client) throws Exception {
        List<String> events = new CopyOnWriteArrayList<>();
        CountDownLatch creating = new CountDownLatch(1);
        when(fake.replication.createSlots(any())).thenAnswer(inv -> {
            if (inv.getArgument(0) == null) {
                return null;
            }
            creating.countDown();
            Thread.sleep(3000); // pg_create_logical_replication_slot waiting for a long transaction
            events.add("slot created");
            return List.of(new ShardSnapshot(0, Lsn.of(0x10)));
        });
        doAnswer(inv -> {
            ReplicationRequest r = inv.getArgument(0);
            if (r != null && r.direction() == Direction.FORWARD) {
                events.add("forward slots dropped");
            }
            return null;
        }).when(fake.replication).dropSlots(any());
        worker.registerActivitiesImplementations(fake.all());
        env.start();
        WorkflowStub stub = client.newUntypedWorkflowStub(ReshardWorkflow.TYPE, WorkflowOptions.newBuilder()
                .setWorkflowId("stop-while-creating-slots").setTaskQueue(worker.getTaskQueue()).build());
        stub.start(new ObjectMapper().readTree("{\"source\":\"prod\",\"destination\":\"prod_sharded\",\"publication\":\"pub\"}"));
        assertTrue(creating.await(60, TimeUnit.SECONDS), "createSlots never ran");
        stub.cancel();
        assertThrows(WorkflowFailedException.class, () -> stub.getResult(ReshardStatus.class));
        Thread.sleep(4000); // let a still-running attempt finish, as it would on a real worker
        assertEquals(List.of("slot created", "forward slots dropped"), events,
                "the cleanup dropped the slots before the attempt creating them had ended");
    }
}
