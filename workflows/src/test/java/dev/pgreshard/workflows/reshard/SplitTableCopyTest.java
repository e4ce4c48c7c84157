package dev.pgreshard.workflows.reshard;

import dev.pgreshard.core.pg.Lsn;
import dev.pgreshard.core.topology.TableName;
import dev.pgreshard.workflows.copy.HeldSnapshot;
import dev.pgreshard.workflows.copy.KeyRange;
import dev.pgreshard.workflows.copy.RangeCopyRequest;
import dev.pgreshard.workflows.copy.RangeCopyResult;
import dev.pgreshard.workflows.copy.SnapshotHold;
import dev.pgreshard.workflows.copy.SplitPlan;
import dev.pgreshard.workflows.copy.TableCopyRequest;
import dev.pgreshard.workflows.replication.ReplicationRequest;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowOptions;
import io.temporal.failure.ApplicationFailure;
import io.temporal.testing.TestWorkflowEnvironment;
import io.temporal.testing.TestWorkflowExtension;
import io.temporal.worker.Worker;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.mockito.ArgumentCaptor;

import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.mockito.ArgumentMatchers.any;
import static org.mockito.ArgumentMatchers.argThat;
import static org.mockito.Mockito.atLeastOnce;
import static org.mockito.Mockito.doAnswer;
import static org.mockito.Mockito.never;
import static org.mockito.Mockito.times;
import static org.mockito.Mockito.verify;
import static org.mockito.Mockito.when;

/**
 * The split copy of one large table (issue 21) with mocked activities: every range reads the held
 * snapshots, the holders are released after the last range, replication starts at the held LSNs, and a
 * holder lost before the ranges finished restarts the table (emptied first) at a new snapshot.
 */
class SplitTableCopyTest {
    private static final ReshardWorkerOptions WORKER_OPTIONS = new ReshardWorkerOptions(Duration.ofSeconds(30),
            Duration.ofSeconds(3), Duration.ofMinutes(5), Duration.ofMinutes(5), Duration.ofMinutes(1), 3);
    private static final TableName ORDERS = TableName.parse("orders");
    private static final List<KeyRange> RANGES = List.of(new KeyRange(null, "100"), new KeyRange("100", "200"),
            new KeyRange("200", null));

    @RegisterExtension
    static final TestWorkflowExtension TEMPORAL = TestWorkflowExtension.newBuilder()
            .registerWorkflowImplementationTypes(WORKER_OPTIONS.implementationOptions(), ReshardWorkflowImpl.class)
            .setDoNotStart(true)
            .build();

    private final FakeActivities fake = new FakeActivities();
    private final Set<Integer> releasedHolds = ConcurrentHashMap.newKeySet();

    private void splitOrders(AtomicInteger holds, int failingGenerations) {
        when(fake.copy.planTable(argThat(r -> r != null && r.table().equals(ORDERS))))
                .thenReturn(new SplitPlan(ORDERS, "id", "bigint", List.of(0, 1), RANGES, "3 key ranges of id"));
        doAnswer(inv -> {
            SnapshotHold hold = inv.getArgument(0);
            holds.incrementAndGet();
            // only shard 0's holder dies: two holders failing at once race the workflow's cancel of the
            // second one, which the in-process test server answers with ACTIVITY_UNKNOWN (a real server
            // records the cancel request before the buffered failure)
            if (hold.generation() <= failingGenerations && hold.sourceShard() == 0) {
                throw ApplicationFailure.newNonRetryableFailure("worker died", "Lost");
            }
            try {
                FakeActivities.runUntilCancelled();
            } finally {
                releasedHolds.add(hold.generation());
            }
            return null;
        }).when(fake.copy).holdSnapshot(any());
        when(fake.copy.awaitSnapshot(any())).thenAnswer(inv -> {
            SnapshotHold hold = inv.getArgument(0);
            if (hold.generation() <= failingGenerations) {
                return FakeActivities.blockUntilCancelled(); // the holder dies before publishing
            }
            return new HeldSnapshot(hold.sourceShard(), "snap-" + hold.generation() + "-" + hold.sourceShard(),
                    Lsn.of(0x1000L * hold.generation() + hold.sourceShard()), "worker-a");
        });
        when(fake.copy.copyRange(any())).thenAnswer(inv -> {
            RangeCopyRequest r = inv.getArgument(0);
            return r == null ? null : new RangeCopyResult(r.table(), r.index(), 100, 1000, 3, "worker-" + r.index());
        });
    }

    private ReshardWorkflow start(TestWorkflowEnvironment env, Worker worker, WorkflowClient client) {
        worker.registerActivitiesImplementations(fake.all());
        env.start();
        io.temporal.client.WorkflowStub stub = client.newUntypedWorkflowStub(ReshardWorkflow.TYPE,
                WorkflowOptions.newBuilder().setWorkflowId("reshard-split-1").setTaskQueue(worker.getTaskQueue()).build());
        stub.start(new ReshardInput("prod", "prod_sharded", "pub", new ReshardOptions(true, 2, 1000L, 500L, 1, 1, 2,
                false)));
        ReshardWorkflow wf = client.newWorkflowStub(ReshardWorkflow.class, "reshard-split-1");
        return wf;
    }

    private static ReshardStatus awaitReplicating(ReshardWorkflow wf) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (System.nanoTime() < deadline) {
            ReshardStatus s = wf.status();
            if (s != null && (s.phase() == Phase.REPLICATING || s.phase() == Phase.FAILED)) {
                return s;
            }
            Thread.sleep(50);
        }
        throw new AssertionError("the task did not reach REPLICATING: " + wf.status());
    }

    @Test
    void rangesReadTheHeldSnapshotsAndReplicationStartsAtTheirLsns(TestWorkflowEnvironment env, Worker worker,
                                                                   WorkflowClient client) throws Exception {
        AtomicInteger holds = new AtomicInteger();
        splitOrders(holds, 0);
        ReshardWorkflow wf = start(env, worker, client);
        ReshardStatus s = awaitReplicating(wf);
        assertEquals(Phase.REPLICATING, s.phase(), s.toString());

        ArgumentCaptor<RangeCopyRequest> ranges = ArgumentCaptor.forClass(RangeCopyRequest.class);
        verify(fake.copy, times(3)).copyRange(ranges.capture());
        for (RangeCopyRequest r : ranges.getAllValues()) {
            assertEquals(List.of("snap-1-0", "snap-1-1"), r.snapshots().stream().map(HeldSnapshot::snapshotId).toList());
            assertEquals(RANGES.get(r.index()), r.range());
        }
        verify(fake.copy, never()).copyTable(argThat((TableCopyRequest r) -> r.table().equals(ORDERS)));
        verify(fake.copy, never()).emptyTable(any());
        assertEquals(2, holds.get());
        awaitReleased(1);

        ArgumentCaptor<ReplicationRequest> forward = ArgumentCaptor.forClass(ReplicationRequest.class);
        verify(fake.replication, atLeastOnce()).replicate(forward.capture());
        var start = forward.getValue().tableStarts().stream().filter(t -> t.table().equals(ORDERS)).findFirst().orElseThrow();
        assertEquals(List.of(Lsn.of(0x1000), Lsn.of(0x1001)), start.snapshots().stream().map(x -> x.lsn()).toList());
        TableProgress orders = s.tables().stream().filter(t -> t.table().equals(ORDERS)).findFirst().orElseThrow();
        assertEquals(300, orders.rows());
        assertEquals("worker-0: 1 range at 333333 B/s; worker-1: 1 range at 333333 B/s; worker-2: 1 range at 333333 B/s",
                orders.workers());
        stopAndSaveHistory(wf, client, "split-copy-stopped-in-replicating");
    }

    /**
     * Stops the task and, with -Dpgreshard.saveHistories=true, saves its history for
     * {@link ReshardWorkflowReplayTest} (the split copy's sequence must keep replaying).
     */
    private static void stopAndSaveHistory(ReshardWorkflow wf, WorkflowClient client, String name) throws Exception {
        io.temporal.client.WorkflowStub.fromTyped(wf).cancel();
        try {
            io.temporal.client.WorkflowStub.fromTyped(wf).getResult(30, java.util.concurrent.TimeUnit.SECONDS,
                    ReshardStatus.class);
        } catch (io.temporal.client.WorkflowFailedException expected) {
            // cancelled
        }
        if (Boolean.getBoolean("pgreshard.saveHistories")) {
            // v2-: recorded with the one-object input and the claim (see ReshardWorkflowTest#saveHistory)
            java.nio.file.Path file = java.nio.file.Path.of("src/test/resources/histories", "v2-" + name + ".json");
            java.nio.file.Files.writeString(file, client.fetchHistory("reshard-split-1").toJson(true));
        }
    }

    @Test
    void aLostHolderRestartsTheTableAtANewSnapshot(TestWorkflowEnvironment env, Worker worker, WorkflowClient client)
            throws Exception {
        AtomicInteger holds = new AtomicInteger();
        splitOrders(holds, 1);
        ReshardWorkflow wf = start(env, worker, client);
        ReshardStatus s = awaitReplicating(wf);
        assertEquals(Phase.REPLICATING, s.phase(), s.toString());
        verify(fake.copy, times(1)).emptyTable(argThat((TableCopyRequest r) -> r.table().equals(ORDERS)));
        ArgumentCaptor<RangeCopyRequest> ranges = ArgumentCaptor.forClass(RangeCopyRequest.class);
        verify(fake.copy, times(3)).copyRange(ranges.capture());
        assertTrue(ranges.getAllValues().stream().allMatch(r -> r.snapshots().get(0).snapshotId().equals("snap-2-0")));
        assertTrue(s.warnings().stream().anyMatch(w -> w.contains("restarted at a new snapshot")), s.warnings().toString());
        awaitReleased(2);
        stopAndSaveHistory(wf, client, "split-copy-restarted");
    }

    private void awaitReleased(int generation) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (!releasedHolds.contains(generation)) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("the snapshot holders of generation " + generation + " were not released");
            }
            Thread.sleep(50);
        }
    }
}
