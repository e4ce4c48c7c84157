package dev.pgreshard.workflows.reshard;

import dev.pgreshard.workflows.TaskRef;
import dev.pgreshard.workflows.copy.CopyActivities;
import dev.pgreshard.workflows.copy.SplitPlan;
import dev.pgreshard.workflows.copy.TableCopyRequest;
import dev.pgreshard.workflows.copy.TableCopyResult;
import dev.pgreshard.workflows.preflight.PublishedTable;
import dev.pgreshard.workflows.replication.TableStart;
import io.temporal.workflow.Async;
import io.temporal.workflow.Promise;
import io.temporal.workflow.Workflow;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;

/**
 * Copies every table with at most {@code parallelism} tables in flight, largest tables first
 * (preflight's order), and collects each table's snapshot for replication. Since {@link #SPLIT_COPY}
 * a table is first planned: copied whole by one activity, or split into key ranges, each its own
 * activity, so that one large table's ranges run on several workers ({@link SplitTableCopy}).
 */
final class TableCopyPlan {
    /** Change id of the planned (whole or split) table copy; histories without it copy every table whole. */
    static final String SPLIT_COPY = "split-copy";
    private final CopyActivities copy;
    private final StatusBook status;

    TableCopyPlan(CopyActivities copy, StatusBook status) {
        this.copy = copy;
        this.status = status;
    }

    List<TableStart> run(TaskRef task, List<PublishedTable> tables, int parallelism) {
        boolean planned = Workflow.getVersion(SPLIT_COPY, Workflow.DEFAULT_VERSION, 1) >= 1;
        Deque<PublishedTable> pending = new ArrayDeque<>(tables);
        List<Promise<TableCopyResult>> inFlight = new ArrayList<>();
        List<TableStart> starts = new ArrayList<>();
        while (!pending.isEmpty() || !inFlight.isEmpty()) {
            while (inFlight.size() < parallelism && !pending.isEmpty()) {
                PublishedTable next = pending.poll();
                status.copying(next.table());
                TableCopyRequest request = new TableCopyRequest(task, next.table());
                inFlight.add(planned ? Async.function(() -> copyPlanned(request))
                        : Async.function(copy::copyTable, request));
            }
            // wakes on the first copy to finish; a failed copy (after its retries) fails the task here
            Promise.anyOf(inFlight).get();
            for (var it = inFlight.iterator(); it.hasNext(); ) {
                Promise<TableCopyResult> p = it.next();
                if (p.isCompleted()) {
                    TableCopyResult result = p.get();
                    status.copied(result);
                    starts.add(new TableStart(result.table(), result.snapshots()));
                    it.remove();
                }
            }
        }
        return starts;
    }

    /** Runs in a workflow thread of its own (Async): plans the table, then copies it whole or by ranges. */
    private TableCopyResult copyPlanned(TableCopyRequest request) {
        SplitPlan plan = copy.planTable(request);
        if (!plan.split()) {
            return copy.copyTable(request);
        }
        return new SplitTableCopy(copy, status).run(request.task(), plan);
    }
}
