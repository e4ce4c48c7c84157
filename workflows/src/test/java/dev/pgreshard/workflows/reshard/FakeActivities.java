package dev.pgreshard.workflows.reshard;

import dev.pgreshard.core.pg.Lsn;
import dev.pgreshard.core.topology.TableName;
import dev.pgreshard.workflows.control.ControlActivities;
import dev.pgreshard.workflows.copy.CopyActivities;
import dev.pgreshard.workflows.copy.ShardSnapshot;
import dev.pgreshard.workflows.copy.TableCopyResult;
import dev.pgreshard.workflows.cutover.CutoverActivities;
import dev.pgreshard.workflows.cutover.CutoverResult;
import dev.pgreshard.workflows.preflight.PreflightActivities;
import dev.pgreshard.workflows.preflight.PreflightReport;
import dev.pgreshard.workflows.preflight.PublishedTable;
import dev.pgreshard.workflows.replication.ReplicationActivities;
import dev.pgreshard.workflows.replication.ReplicationStatus;
import dev.pgreshard.workflows.schema.SchemaActivities;
import dev.pgreshard.workflows.schema.SchemaSyncResult;
import io.temporal.activity.Activity;
import io.temporal.activity.ActivityExecutionContext;
import io.temporal.client.ActivityCanceledException;
import org.mockito.Mockito;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.mockito.ArgumentMatchers.any;
import static org.mockito.Mockito.doAnswer;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.when;
import static org.mockito.Mockito.withSettings;

/**
 * Mockito mocks of every activity of the reshard workflow (built withoutAnnotations, as the Temporal
 * test framework needs), answering like a healthy system: three tables, no lag, cutovers that swap.
 * Tests override single answers to drive a branch.
 */
final class FakeActivities {
    static final List<PublishedTable> TABLES = List.of(
            new PublishedTable(TableName.parse("orders"), true, 1000, 1 << 20),
            new PublishedTable(TableName.parse("customers"), true, 100, 1 << 16),
            new PublishedTable(TableName.parse("countries"), false, 10, 1 << 10));

    final PreflightActivities preflight = mock(PreflightActivities.class, withSettings().withoutAnnotations());
    final SchemaActivities schema = mock(SchemaActivities.class, withSettings().withoutAnnotations());
    final CopyActivities copy = mock(CopyActivities.class, withSettings().withoutAnnotations());
    final ReplicationActivities replication = mock(ReplicationActivities.class, withSettings().withoutAnnotations());
    final CutoverActivities cutover = mock(CutoverActivities.class, withSettings().withoutAnnotations());
    final ControlActivities control = mock(ControlActivities.class, withSettings().withoutAnnotations());
    /** Every task registry write, in order. */
    final List<String> recorded = new CopyOnWriteArrayList<>();

    FakeActivities() {
        when(preflight.check(any())).thenReturn(new PreflightReport(TABLES, List.of("a warning from preflight")));
        when(schema.syncPreData(any())).thenReturn(new SchemaSyncResult(5, List.of()));
        when(schema.syncPostData(any())).thenReturn(new SchemaSyncResult(2, List.of("FK skipped")));
        when(copy.copyTable(any())).thenAnswer(inv -> {
            dev.pgreshard.workflows.copy.TableCopyRequest request = inv.getArgument(0);
            if (request == null) { // Mockito's when(...) during re-stubbing
                return null;
            }
            return new TableCopyResult(request.table(), 10, 1000, 5, List.of(new ShardSnapshot(0, Lsn.of(0x100))));
        });
        // whole-table plans unless a test splits a table (SplitTableCopyTest)
        when(copy.planTable(any())).thenAnswer(inv -> {
            dev.pgreshard.workflows.copy.TableCopyRequest request = inv.getArgument(0);
            return request == null ? null : new dev.pgreshard.workflows.copy.SplitPlan(request.table(), "", "",
                    List.of(0), List.of(), "small");
        });
        when(replication.createSlots(any())).thenReturn(List.of(new ShardSnapshot(0, Lsn.of(0x10))));
        when(replication.status(any())).thenReturn(new ReplicationStatus(List.of(), 0, 0));
        doAnswer(inv -> {
            runUntilCancelled();
            return null;
        }).when(replication).replicate(any());
        when(cutover.cutover(any())).thenReturn(new CutoverResult(true, 120, 4096, 2, ""));
        when(cutover.rollback(any())).thenReturn(new CutoverResult(true, 90, 0, 3, ""));
        when(cutover.drainReverse(any())).thenReturn(new dev.pgreshard.workflows.cutover.DrainResult(true, 0, ""));
        when(control.claimTask(any())).thenReturn(new dev.pgreshard.workflows.control.WorkerDefaults(2, 1_048_576L, 1000L));
        doAnswer(inv -> {
            dev.pgreshard.workflows.control.TaskRecord r = inv.getArgument(0);
            recorded.add(r.phase() + "/" + r.state());
            return null;
        }).when(control).recordTask(any());
    }

    Object[] all() {
        return new Object[] {preflight, schema, copy, replication, cutover, control};
    }

    /**
     * The production defaults with a 3 s heartbeat timeout: a cancelled activity learns of its cancellation
     * only from a heartbeat the SDK sends, at most every 0.8 × the timeout (24 s with the default 30 s), and
     * replication is cancelled with WAIT_CANCELLATION_COMPLETED, so each test waited that long, twice.
     */
    static final ReshardWorkerOptions WORKER_OPTIONS = ReshardWorkerOptions.forHeartbeatTimeout(Duration.ofSeconds(3));

    /** What a long activity does: heartbeat until the workflow cancels it. */
    static void runUntilCancelled() {
        ActivityExecutionContext ctx = Activity.getExecutionContext();
        while (true) {
            try {
                ctx.heartbeat(null);
                Thread.sleep(50);
            } catch (ActivityCanceledException e) {
                throw e;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw Activity.wrap(e);
            }
        }
    }

    static <T> T blockUntilCancelled() {
        runUntilCancelled();
        return null;
    }

    static void reset(Object mock) {
        Mockito.clearInvocations(mock);
    }
}
