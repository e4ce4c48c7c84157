package dev.pgreshard.workflows.reshard;

import dev.pgreshard.workflows.TaskRef;
import dev.pgreshard.workflows.copy.CopyActivities;
import dev.pgreshard.workflows.copy.TableCopyRequest;
import dev.pgreshard.workflows.copy.TableCopyResult;
import dev.pgreshard.workflows.preflight.PublishedTable;
import dev.pgreshard.workflows.replication.TableStart;
import io.temporal.workflow.Async;
import io.temporal.workflow.Promise;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;

/**
 * Copies every table with at most {@code parallelism} copy activities in flight, largest tables
 * first (preflight's order), and collects each table's snapshot for replication.
 */
final class TableCopyPlan {
    private final CopyActivities copy;
    private final StatusBook status;

    TableCopyPlan(CopyActivities copy, StatusBook status) {
        this.copy = copy;
        this.status = status;
    }

    List<TableStart> run(TaskRef task, List<PublishedTable> tables, int parallelism) {
        Deque<PublishedTable> pending = new ArrayDeque<>(tables);
        List<Promise<TableCopyResult>> inFlight = new ArrayList<>();
        List<TableStart> starts = new ArrayList<>();
        while (!pending.isEmpty() || !inFlight.isEmpty()) {
            while (inFlight.size() < parallelism && !pending.isEmpty()) {
                PublishedTable next = pending.poll();
                status.copying(next.table());
                inFlight.add(Async.function(copy::copyTable, new TableCopyRequest(task, next.table())));
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
}
