package dev.pgreshard.workflows.reshard;

import dev.pgreshard.workflows.copy.TableCopyRequest;
import dev.pgreshard.workflows.cutover.CutoverResult;
import dev.pgreshard.workflows.replication.Direction;
import dev.pgreshard.workflows.replication.ReplicationRequest;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowFailedException;
import io.temporal.client.WorkflowOptions;
import io.temporal.client.WorkflowStub;
import io.temporal.failure.ApplicationFailure;
import io.temporal.failure.CanceledFailure;
import io.temporal.testing.TestWorkflowEnvironment;
import io.temporal.testing.TestWorkflowExtension;
import io.temporal.worker.Worker;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.mockito.ArgumentCaptor;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.Predicate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.mockito.ArgumentMatchers.any;
import static org.mockito.ArgumentMatchers.argThat;
import static org.mockito.Mockito.atLeastOnce;
import static org.mockito.Mockito.doThrow;
import static org.mockito.Mockito.never;
import static org.mockito.Mockito.times;
import static org.mockito.Mockito.verify;
import static org.mockito.Mockito.when;

/** Every branch of the reshard sequence, with mocked activities on the in-process Temporal test server. */
class ReshardWorkflowTest {
    private static final ReshardWorkerOptions WORKER_OPTIONS = new ReshardWorkerOptions(Duration.ofSeconds(30),
            Duration.ofSeconds(3), Duration.ofMinutes(5), Duration.ofMinutes(5), Duration.ofMinutes(1), 3);

    @RegisterExtension
    static final TestWorkflowExtension TEMPORAL = TestWorkflowExtension.newBuilder()
            .registerWorkflowImplementationTypes(WORKER_OPTIONS.implementationOptions(), ReshardWorkflowImpl.class)
            .setDoNotStart(true)
            .build();

    private final FakeActivities fake = new FakeActivities();

    private ReshardWorkflow start(TestWorkflowEnvironment env, Worker worker, WorkflowClient client, ReshardOptions options) {
        worker.registerActivitiesImplementations(fake.all());
        env.start();
        WorkflowStub stub = client.newUntypedWorkflowStub(ReshardWorkflow.TYPE, WorkflowOptions.newBuilder()
                .setWorkflowId("reshard-prod-prod_sharded-1").setTaskQueue(worker.getTaskQueue()).build());
        stub.start(new ReshardInput("prod", "prod_sharded", "pub", options));
        return client.newWorkflowStub(ReshardWorkflow.class, "reshard-prod-prod_sharded-1");
    }

    private static ReshardOptions auto() {
        return new ReshardOptions(false, 2, 1000L, 500L, 1, 1, 2, false);
    }

    private static ReshardOptions manual() {
        return new ReshardOptions(true, 2, 1000L, 500L, 1, 1, 2, false);
    }

    /** Polls the status query (real time: the replicate activity keeps the test server from skipping). */
    private static ReshardStatus awaitStatus(ReshardWorkflow wf, Predicate<ReshardStatus> condition) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        ReshardStatus s = null;
        while (System.nanoTime() < deadline) {
            s = wf.status();
            if (s != null && condition.test(s)) {
                return s;
            }
            Thread.sleep(50);
        }
        throw new AssertionError("status never matched; last: " + s);
    }

    /**
     * With -Dpgreshard.saveHistories=true, writes the finished workflow's history to
     * src/test/resources/histories for {@link ReshardWorkflowReplayTest}. Regenerate only for a change
     * that is meant to be incompatible (and then guard it with Workflow.getVersion instead). Files are
     * named {@code v2-<name>} since the one-object input and the claim (histories without the prefix
     * were saved before; keep them, they prove older running tasks still replay).
     */
    private static void saveHistory(WorkflowClient client, String name) throws Exception {
        if (Boolean.getBoolean("pgreshard.saveHistories")) {
            java.nio.file.Path file = java.nio.file.Path.of("src/test/resources/histories", "v2-" + name + ".json");
            java.nio.file.Files.createDirectories(file.getParent());
            java.nio.file.Files.writeString(file, client.fetchHistory("reshard-prod-prod_sharded-1").toJson(true));
        }
    }

    private static ReshardStatus result(ReshardWorkflow wf) {
        return WorkflowStub.fromTyped(wf).getResult(ReshardStatus.class);
    }

    @Test
    void automaticCutoverThenFinalize(TestWorkflowEnvironment env, Worker worker, WorkflowClient client) throws Exception {
        ReshardWorkflow wf = start(env, worker, client, auto());
        ReshardStatus waiting = awaitStatus(wf, s -> s.phase() == Phase.REVERSE_REPLICATING);
        assertEquals(TaskState.WAITING_FOR_FINALIZE, waiting.state());
        assertEquals(3, waiting.tables().size());
        assertTrue(waiting.tables().stream().allMatch(t -> t.state().equals(TableProgress.COPIED)), waiting.tables().toString());
        assertEquals(1, waiting.cutoverAttempts().size());
        assertTrue(waiting.cutoverAttempts().get(0).swapped());
        assertEquals(List.of("a warning from preflight", "FK skipped"), waiting.warnings());

        // as the Temporal UI / CLI would send it: no argument at all
        WorkflowStub.fromTyped(wf).signal("finalize");
        ReshardStatus done = result(wf);
        assertEquals(Phase.DONE, done.phase());
        assertEquals(TaskState.FINALIZED, done.state());

        verify(fake.copy, times(3)).copyTable(any());
        ArgumentCaptor<ReplicationRequest> streams = ArgumentCaptor.forClass(ReplicationRequest.class);
        verify(fake.replication, times(2)).replicate(streams.capture());
        assertEquals(Direction.FORWARD, streams.getAllValues().get(0).direction());
        assertEquals(3, streams.getAllValues().get(0).tableStarts().size(), "every table's snapshot goes to replication");
        assertEquals(Direction.REVERSE, streams.getAllValues().get(1).direction());
        verify(fake.replication).dropSlots(argThat(r -> r.direction() == Direction.FORWARD));
        verify(fake.replication).dropSlots(argThat(r -> r.direction() == Direction.REVERSE));
        verify(fake.cutover, never()).resumeProxies(any());
        assertEquals("DONE/FINALIZED", fake.recorded.get(fake.recorded.size() - 1));
        assertEquals(List.of("PREFLIGHT/RUNNING", "SCHEMA_PRE/RUNNING", "COPY/RUNNING", "SCHEMA_POST/RUNNING",
                "REPLICATING/RUNNING", "CUTOVER/RUNNING", "REVERSE_REPLICATING/WAITING_FOR_FINALIZE", "DONE/FINALIZED"),
                fake.recorded);
        saveHistory(client, "finalized");
    }

    @Test
    void finalizeIsRefusedWhileReverseReplicationFailsOrLagsAndForceSaysWhatIsDropped(TestWorkflowEnvironment env,
                                                                                    Worker worker, WorkflowClient client)
            throws Exception {
        ReshardWorkflow wf = start(env, worker, client, auto());
        awaitStatus(wf, s -> s.phase() == Phase.REVERSE_REPLICATING);
        // what the worker's reporter sends when a reverse stream's attempt fails
        String key = "ReplicationReplicate/7";
        wf.activityFailing(new ActivityFailureReport(key, "ReplicationReplicate", "table public.orders on src shard 0",
                "duplicate key value violates unique constraint \"orders_pkey\"", 2, true));
        wf.activityFailing(new ActivityFailureReport(key, "ReplicationReplicate", "table public.orders on src shard 0",
                "duplicate key value violates unique constraint \"orders_pkey\"", 3, true));
        ReshardStatus failing = awaitStatus(wf, s -> s.failing().size() == 1 && s.failing().get(0).attempts() == 3);
        ActivityProblem p = failing.failing().get(0);
        assertEquals("table public.orders on src shard 0", p.subject());
        assertTrue(!p.since().isEmpty() && p.since().compareTo(p.lastAt()) <= 0, p.toString());

        wf.finalizeTask(false);
        ReshardStatus refused = awaitStatus(wf, s -> s.warnings().stream().anyMatch(w -> w.startsWith("finalize refused")));
        assertEquals(Phase.REVERSE_REPLICATING, refused.phase());
        assertTrue(refused.warnings().stream().anyMatch(w -> w.contains("orders_pkey") && w.contains("--force")),
                refused.warnings().toString());
        verify(fake.cutover, never()).drainReverse(any());

        // the stream works again, but what the destination committed is not applied in time
        wf.activityRecovered(key);
        when(fake.cutover.drainReverse(any())).thenReturn(new dev.pgreshard.workflows.cutover.DrainResult(false,
                6_000_000, "a marker was not applied within 60 s"));
        wf.finalizeTask(false);
        ReshardStatus lagging = awaitStatus(wf, s -> s.warnings().stream().filter(w -> w.startsWith("finalize refused"))
                .count() == 2);
        assertTrue(lagging.failing().isEmpty(), lagging.failing().toString());
        assertTrue(lagging.warnings().get(lagging.warnings().size() - 1).contains("6000000 bytes behind"),
                lagging.warnings().toString());

        when(fake.replication.status(any())).thenReturn(new dev.pgreshard.workflows.replication.ReplicationStatus(
                List.of(), 6_000_000, 12));
        wf.finalizeTask(true);
        ReshardStatus done = result(wf);
        assertEquals(TaskState.FINALIZED, done.state());
        assertTrue(done.warnings().stream().anyMatch(w -> w.startsWith("finalize --force") && w.contains("6000000 bytes")),
                done.warnings().toString());
    }

    @Test
    void automaticCutoverWaitsForLagUnderTheThreshold(TestWorkflowEnvironment env, Worker worker, WorkflowClient client)
            throws Exception {
        when(fake.replication.status(any()))
                .thenReturn(new dev.pgreshard.workflows.replication.ReplicationStatus(List.of(), 50_000, 3.0))
                .thenReturn(new dev.pgreshard.workflows.replication.ReplicationStatus(List.of(), 50_000, 3.0))
                .thenReturn(new dev.pgreshard.workflows.replication.ReplicationStatus(List.of(), 10, 0.1));
        ReshardWorkflow wf = start(env, worker, client, auto());
        ReshardStatus lagging = awaitStatus(wf, s -> s.lagBytes() == 50_000);
        assertEquals(Phase.REPLICATING, lagging.phase());
        verify(fake.cutover, never()).cutover(any());
        awaitStatus(wf, s -> s.phase() == Phase.REVERSE_REPLICATING);
        verify(fake.replication, atLeastOnce()).status(any());
        verify(fake.cutover, times(1)).cutover(any());
        wf.finalizeTask(false);
        assertEquals(TaskState.FINALIZED, result(wf).state());
    }

    @Test
    void manualCutoverWaitsForTheSignalThenRollsBack(TestWorkflowEnvironment env, Worker worker, WorkflowClient client)
            throws Exception {
        ReshardWorkflow wf = start(env, worker, client, manual());
        awaitStatus(wf, s -> s.state() == TaskState.WAITING_FOR_CUTOVER);
        Thread.sleep(1500); // two lag polls' worth: a manual task must not cut over by itself
        verify(fake.cutover, never()).cutover(any());

        wf.rollback(); // before the cutover: ignored with a warning
        wf.cutover();
        awaitStatus(wf, s -> s.phase() == Phase.REVERSE_REPLICATING);
        wf.rollback();
        ReshardStatus done = result(wf);
        assertEquals(TaskState.ROLLED_BACK, done.state());
        assertEquals(List.of("CUTOVER", "ROLLBACK"), done.cutoverAttempts().stream().map(CutoverAttempt::kind).toList());
        assertTrue(done.warnings().stream().anyMatch(w -> w.startsWith("rollback signal ignored in phase REPLICATING")),
                done.warnings().toString());
        verify(fake.replication).dropSlots(argThat(r -> r.direction() == Direction.REVERSE));
        saveHistory(client, "manual-rolled-back");
    }

    @Test
    void failedCutoverKeepsReplicatingAndTriesAgain(TestWorkflowEnvironment env, Worker worker, WorkflowClient client)
            throws Exception {
        when(fake.cutover.cutover(any()))
                .thenReturn(new CutoverResult(false, 510, 0, 1, "pause budget of 500 ms exceeded; resumed on the source"))
                .thenReturn(new CutoverResult(true, 140, 100, 2, ""));
        ReshardWorkflow wf = start(env, worker, client, auto());
        ReshardStatus swapped = awaitStatus(wf, s -> s.phase() == Phase.REVERSE_REPLICATING);
        assertEquals(2, swapped.cutoverAttempts().size());
        assertFalse(swapped.cutoverAttempts().get(0).swapped());
        assertTrue(swapped.cutoverAttempts().get(0).reason().contains("budget"));
        assertTrue(fake.recorded.contains("REPLICATING/RUNNING"));
        wf.finalizeTask(false);
        assertEquals(TaskState.FINALIZED, result(wf).state());
    }

    @Test
    void automaticCutoverGivesUpAfterMaxAttemptsAndWaitsForTheSignal(TestWorkflowEnvironment env, Worker worker,
                                                                     WorkflowClient client) throws Exception {
        when(fake.cutover.cutover(any())).thenReturn(new CutoverResult(false, 600, 0, 1, "proxy p1 did not acknowledge"));
        ReshardWorkflow wf = start(env, worker, client, auto());
        ReshardStatus s = awaitStatus(wf, st -> st.state() == TaskState.WAITING_FOR_CUTOVER);
        assertEquals(2, s.cutoverAttempts().size(), "maxAutomaticCutovers = 2");
        WorkflowStub.fromTyped(wf).cancel();
        assertThrows(WorkflowFailedException.class, () -> result(wf));
        verify(fake.cutover).resumeProxies(any());
    }

    @Test
    void preflightFailureFailsWithItsMessageAndCreatesNothing(TestWorkflowEnvironment env, Worker worker,
                                                              WorkflowClient client) throws Exception {
        when(fake.preflight.check(any())).thenThrow(ApplicationFailure.newNonRetryableFailure(
                "table public.events has no primary key: ALTER TABLE public.events REPLICA IDENTITY FULL", "Preflight"));
        ReshardWorkflow wf = start(env, worker, client, auto());
        WorkflowFailedException e = assertThrows(WorkflowFailedException.class, () -> result(wf));
        String message = ReshardWorkflowImpl.describe(e.getCause());
        assertTrue(message.startsWith("table public.events has no primary key"), message);
        ReshardStatus s = wf.status();
        assertEquals(Phase.FAILED, s.phase());
        assertTrue(s.error().contains("REPLICA IDENTITY FULL"), s.error());
        verify(fake.preflight, times(1)).check(any());
        verify(fake.replication, never()).createSlots(any());
        verify(fake.replication, never()).dropSlots(any());
        assertEquals("FAILED/FAILED", fake.recorded.get(fake.recorded.size() - 1));
        saveHistory(client, "preflight-failed");
    }

    @Test
    void copyFailureAfterRetriesFailsTheTaskAndDropsItsSlots(TestWorkflowEnvironment env, Worker worker,
                                                             WorkflowClient client) {
        when(fake.copy.copyTable(argThat(r -> r != null && r.table().name().equals("customers"))))
                .thenThrow(new IllegalStateException("connection to prod_sharded shard 1 lost"));
        ReshardWorkflow wf = start(env, worker, client, auto());
        assertThrows(WorkflowFailedException.class, () -> result(wf));
        verify(fake.copy, times(3)).copyTable(argThat((TableCopyRequest r) -> r.table().name().equals("customers")));
        verify(fake.replication).dropSlots(argThat(r -> r.direction() == Direction.FORWARD));
        verify(fake.replication, never()).replicate(any());
        assertTrue(wf.status().error().contains("connection to prod_sharded shard 1 lost"), wf.status().error());
    }

    @Test
    void replicationFailureFailsTheTaskAndDropsItsSlots(TestWorkflowEnvironment env, Worker worker, WorkflowClient client) {
        doThrow(ApplicationFailure.newNonRetryableFailure("table public.orders: column note exists on the source but "
                + "not on prod_sharded shard 1; add it there (ALTER TABLE ...) and restart", "SchemaDrift"))
                .when(fake.replication).replicate(any());
        ReshardWorkflow wf = start(env, worker, client, manual());
        assertThrows(WorkflowFailedException.class, () -> result(wf));
        assertTrue(wf.status().error().contains("column note exists on the source"), wf.status().error());
        verify(fake.replication).dropSlots(argThat(r -> r.direction() == Direction.FORWARD));
    }

    /** A phase in which the test holds the workflow (its activity blocks) and then stops the task. */
    enum StopIn { PREFLIGHT, SCHEMA_PRE, COPY, SCHEMA_POST, REPLICATING, REVERSE_REPLICATING }

    @ParameterizedTest
    @EnumSource(StopIn.class)
    void stopInEveryPhaseCleansUp(StopIn phase, TestWorkflowEnvironment env, Worker worker, WorkflowClient client)
            throws Exception {
        switch (phase) {
            case PREFLIGHT -> when(fake.preflight.check(any())).thenAnswer(i -> FakeActivities.blockUntilCancelled());
            case SCHEMA_PRE -> when(fake.schema.syncPreData(any())).thenAnswer(i -> FakeActivities.blockUntilCancelled());
            case COPY -> when(fake.copy.copyTable(any())).thenAnswer(i -> FakeActivities.blockUntilCancelled());
            case SCHEMA_POST -> when(fake.schema.syncPostData(any())).thenAnswer(i -> FakeActivities.blockUntilCancelled());
            default -> { } // REPLICATING (manual) and REVERSE_REPLICATING wait for signals by themselves
        }
        ReshardWorkflow wf = start(env, worker, client, phase == StopIn.REVERSE_REPLICATING ? auto() : manual());
        Phase target = Phase.valueOf(phase.name());
        awaitStatus(wf, s -> s.phase() == target);
        Thread.sleep(200);
        WorkflowStub.fromTyped(wf).cancel();
        WorkflowFailedException e = assertThrows(WorkflowFailedException.class, () -> result(wf));
        assertInstanceOf(CanceledFailure.class, e.getCause());

        ReshardStatus s = wf.status();
        assertEquals(Phase.STOPPED, s.phase());
        assertEquals(TaskState.STOPPED, s.state());
        assertEquals("STOPPED/STOPPED", fake.recorded.get(fake.recorded.size() - 1));
        // a Cancel after the cutover says plainly where traffic is and that rollback is gone
        assertEquals(target == Phase.REVERSE_REPLICATING, s.warnings().stream().anyMatch(w -> w.startsWith(
                "stopped after the cutover: traffic stays on destination 'prod_sharded'")
                && w.contains("rollback is no longer possible")), s.warnings().toString());
        boolean slotsExist = target.compareTo(Phase.COPY) >= 0;
        // dropping is idempotent: the cleanup drops both directions whatever the normal path already dropped
        verify(fake.replication, slotsExist ? atLeastOnce() : never()).dropSlots(argThat(r -> r.direction() == Direction.FORWARD));
        verify(fake.replication, slotsExist ? times(1) : never()).dropSlots(argThat(r -> r.direction() == Direction.REVERSE));
        verify(fake.cutover, target == Phase.REVERSE_REPLICATING ? times(1) : never()).resumeProxies(any());
        assertEquals(io.temporal.api.enums.v1.EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED,
                client.fetchHistory("reshard-prod-prod_sharded-1").getLastEvent().getEventType());
        saveHistory(client, "stopped-in-" + phase.name().toLowerCase());
    }

    @Test
    void signalsAfterTheEndOfTheirPhaseAreIgnoredWithAWarning(TestWorkflowEnvironment env, Worker worker,
                                                              WorkflowClient client) throws Exception {
        ReshardWorkflow wf = start(env, worker, client, manual());
        awaitStatus(wf, s -> s.state() == TaskState.WAITING_FOR_CUTOVER);
        wf.finalizeTask(false);
        ReshardStatus s = awaitStatus(wf, st -> !st.warnings().stream().filter(w -> w.startsWith("finalize")).toList().isEmpty());
        assertEquals(Phase.REPLICATING, s.phase(), "finalize before cutover changes nothing");
        CompletableFuture.runAsync(wf::cutover).get();
        awaitStatus(wf, st -> st.phase() == Phase.REVERSE_REPLICATING);
        wf.cutover();
        awaitStatus(wf, st -> st.warnings().stream().anyMatch(w -> w.startsWith("cutover signal ignored")));
        wf.finalizeTask(false);
        assertEquals(TaskState.FINALIZED, result(wf).state());
        verify(fake.cutover, times(1)).cutover(any());
    }
}
