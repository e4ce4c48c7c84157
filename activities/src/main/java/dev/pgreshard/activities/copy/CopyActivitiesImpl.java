package dev.pgreshard.activities.copy;

import dev.pgreshard.activities.catalog.Failures;
import dev.pgreshard.activities.support.WorkerMetrics;
import dev.pgreshard.core.config.PgReshardConfig;
import dev.pgreshard.core.pg.PgConnector;
import dev.pgreshard.core.topology.TableName;
import dev.pgreshard.workflows.copy.CopyActivities;
import dev.pgreshard.workflows.copy.CopyProgress;
import dev.pgreshard.workflows.copy.TableCopyRequest;
import dev.pgreshard.workflows.copy.TableCopyResult;
import io.temporal.activity.Activity;
import io.temporal.activity.ActivityExecutionContext;

/**
 * Thin Temporal wrapper over {@link TableCopier}: heartbeats {@link CopyProgress} about once a
 * second (a heartbeat is also where Temporal delivers cancellation, which aborts the copy). Any
 * attempt after the first starts by emptying the table on the destination shards, because the
 * earlier attempt may have committed part of it.
 */
public class CopyActivitiesImpl implements CopyActivities {
    private final TableCopier copier;

    public CopyActivitiesImpl(PgReshardConfig config, PgConnector connector) {
        this.copier = new TableCopier(config, connector);
    }

    @Override
    public TableCopyResult copyTable(TableCopyRequest request) {
        ActivityExecutionContext context = Activity.getExecutionContext();
        boolean retry = context.getInfo().getAttempt() > 1;
        WorkerMetrics.CopyMeter meter = WorkerMetrics.copy(request.task().taskId(), request.table());
        return Failures.translate(() -> copier.copy(request.task(), request.table(), retry, new CopyListener() {
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
    }
}
