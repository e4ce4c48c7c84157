package dev.pgreshard.activities.copy;

import dev.pgreshard.activities.catalog.Failures;
import dev.pgreshard.activities.support.WorkerMetrics;
import dev.pgreshard.core.config.PgReshardConfig;
import dev.pgreshard.core.pg.PgConnector;
import dev.pgreshard.core.topology.TableName;
import dev.pgreshard.workflows.copy.CopyActivities;
import dev.pgreshard.workflows.copy.CopyProgress;
import dev.pgreshard.workflows.copy.HeldSnapshot;
import dev.pgreshard.workflows.copy.RangeCopyRequest;
import dev.pgreshard.workflows.copy.RangeCopyResult;
import dev.pgreshard.workflows.copy.RangeProgress;
import dev.pgreshard.workflows.copy.SnapshotHold;
import dev.pgreshard.workflows.copy.SplitPlan;
import dev.pgreshard.workflows.copy.TableCopyRequest;
import dev.pgreshard.workflows.copy.TableCopyResult;
import io.temporal.activity.Activity;
import io.temporal.activity.ActivityExecutionContext;
import io.temporal.failure.ApplicationFailure;

import java.lang.management.ManagementFactory;

/**
 * Thin Temporal wrapper over {@link TableCopier} and {@link SplitCopier}: heartbeats {@link CopyProgress}
 * about once a second (a heartbeat is also where Temporal delivers cancellation, which aborts the copy).
 * Any attempt after the first starts by removing what an earlier attempt may have committed: the whole
 * table for {@code copyTable}, the key range for {@code copyRange}.
 */
public class CopyActivitiesImpl implements CopyActivities {
    private final TableCopier copier;
    private final SplitPlanner planner;
    private final SplitCopier split;
    private final String worker;

    public CopyActivitiesImpl(PgReshardConfig config, PgConnector connector) {
        this(config, connector, ManagementFactory.getRuntimeMXBean().getName());
    }

    /** @param worker this worker's identity, reported with each copied range (placement) */
    public CopyActivitiesImpl(PgReshardConfig config, PgConnector connector, String worker) {
        this.copier = new TableCopier(config, connector);
        this.planner = new SplitPlanner(config, connector, copier);
        this.split = new SplitCopier(config, connector, copier, worker);
        this.worker = worker;
    }

    @Override
    public TableCopyResult copyTable(TableCopyRequest request) {
        ActivityExecutionContext context = Activity.getExecutionContext();
        boolean retry = context.getInfo().getAttempt() > 1;
        WorkerMetrics.CopyMeter meter = WorkerMetrics.copy(request.task().taskId(), request.table());
        TableCopyResult result = Failures.translate(() -> copier.copy(request.task(), request.table(), retry,
                new CopyListener() {
                    private String ranges = "taking the snapshot";

                    @Override
                    public void ranges(TableName table, int finished, int total) {
                        ranges = finished + " of " + total + " block range" + (total == 1 ? "" : "s") + " copied";
                    }

                    @Override
                    public void progress(TableName table, long rows, long bytes) {
                        meter.progress(rows, bytes);
                        context.heartbeat(new CopyProgress(table.toString(), ranges, rows, bytes));
                    }
                }));
        return result.withWorkers(worker + ": whole at " + (result.millis() <= 0 ? 0 : result.bytes() * 1000 / result.millis())
                + " B/s");
    }

    @Override
    public SplitPlan planTable(TableCopyRequest request) {
        return Failures.translate(() -> planner.plan(request.task(), request.table()));
    }

    @Override
    public void holdSnapshot(SnapshotHold hold) {
        ActivityExecutionContext context = Activity.getExecutionContext();
        Failures.translate(() -> {
            split.hold(hold, () -> context.heartbeat(null));
            return null;
        });
    }

    @Override
    public HeldSnapshot awaitSnapshot(SnapshotHold hold) {
        ActivityExecutionContext context = Activity.getExecutionContext();
        return Failures.translate(() -> split.await(hold, () -> context.heartbeat(null)));
    }

    @Override
    public RangeCopyResult copyRange(RangeCopyRequest request) {
        ActivityExecutionContext context = Activity.getExecutionContext();
        boolean retry = context.getInfo().getAttempt() > 1;
        WorkerMetrics.CopyMeter meter = WorkerMetrics.copy(request.task().taskId(), request.table());
        // at once, before any connection is opened: `status` names a copy only from its heartbeat, and a
        // worker that dies in its first second would otherwise leave it listed as "table not reported yet"
        // until the retry (ScaleOutTest)
        context.heartbeat(new RangeProgress(request.table(), request.index(), request.count(), 0, 0));
        return Failures.translate(() -> {
            try {
                return split.copyRange(request, retry, (table, rows, bytes) -> {
                    meter.progress(rows, bytes);
                    context.heartbeat(new RangeProgress(table, request.index(), request.count(), rows, bytes));
                });
            } catch (SnapshotGoneException gone) {
                // retrying cannot help: the workflow restarts the table at a new snapshot
                throw ApplicationFailure.newNonRetryableFailure(gone.getMessage(), HeldSnapshot.GONE);
            }
        });
    }

    @Override
    public void emptyTable(TableCopyRequest request) {
        Failures.translate(() -> {
            split.empty(request);
            return null;
        });
    }
}
