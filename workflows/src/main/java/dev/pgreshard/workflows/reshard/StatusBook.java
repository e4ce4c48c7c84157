package dev.pgreshard.workflows.reshard;

import dev.pgreshard.core.topology.TableName;
import dev.pgreshard.workflows.TaskRef;
import dev.pgreshard.workflows.control.TaskRecord;
import dev.pgreshard.workflows.copy.TableCopyResult;
import dev.pgreshard.workflows.cutover.CutoverResult;
import dev.pgreshard.workflows.preflight.PublishedTable;
import dev.pgreshard.workflows.replication.ReplicationStatus;
import io.temporal.workflow.Workflow;

import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The workflow's mutable view of its task, answered by the `status` query. Workflow-thread only;
 * times come from {@link Workflow#currentTimeMillis()} so replays see the same values.
 */
final class StatusBook {
    private final TaskRef task;
    private final boolean manualCutover;
    private final Map<TableName, TableProgress> tables = new LinkedHashMap<>();
    private final List<CutoverAttempt> attempts = new ArrayList<>();
    private final List<String> warnings = new ArrayList<>();
    private Phase phase = Phase.PREFLIGHT;
    private TaskState state = TaskState.RUNNING;
    private long lagBytes;
    private boolean lagKnown = true;
    private double lagSeconds;
    private String lagCheckedAt = "";
    private String error = "";

    StatusBook(TaskRef task, boolean manualCutover) {
        this.task = task;
        this.manualCutover = manualCutover;
    }

    void phase(Phase phase, TaskState state) {
        this.phase = phase;
        this.state = state;
    }

    Phase phase() {
        return phase;
    }

    TaskState state() {
        return state;
    }

    void tablesPlanned(List<PublishedTable> planned) {
        for (PublishedTable t : planned) {
            tables.put(t.table(), new TableProgress(t.table(), TableProgress.PENDING, 0, 0, 0));
        }
    }

    void copying(TableName table) {
        tables.put(table, new TableProgress(table, TableProgress.COPYING, 0, 0, 0));
    }

    void copied(TableCopyResult r) {
        tables.put(r.table(), new TableProgress(r.table(), TableProgress.COPIED, r.rows(), r.bytes(), r.millis(),
                r.workers()));
    }

    /** The lag could not be measured (a shard down?): say so once per distinct reason; the last figures stay. */
    void lagUnknown(String why) {
        lagKnown = false;
        String warning = "replication lag unavailable: " + why;
        if (!warnings.contains(warning)) {
            warnings.add(warning);
        }
    }

    /** False after a failed measurement until the next good one: an automatic cutover waits for a known lag. */
    boolean lagKnown() {
        return lagKnown;
    }

    void lag(ReplicationStatus s) {
        lagKnown = true;
        lagBytes = s.lagBytes();
        lagSeconds = s.lagSeconds();
        lagCheckedAt = now();
    }

    long lagBytes() {
        return lagBytes;
    }

    void attempt(String kind, String startedAt, CutoverResult r) {
        attempts.add(new CutoverAttempt(kind, startedAt, r.swapped(), r.pauseMs(), r.lagBytes(), r.reason()));
    }

    int failedAttemptsSinceLastSwap() {
        int n = 0;
        for (int i = attempts.size() - 1; i >= 0 && !attempts.get(i).swapped(); i--) {
            n++;
        }
        return n;
    }

    void warn(String warning) {
        warnings.add(warning);
    }

    void warnAll(List<String> more) {
        warnings.addAll(more);
    }

    void failed(String message) {
        this.error = message;
    }

    static String now() {
        return Instant.ofEpochMilli(Workflow.currentTimeMillis()).toString();
    }

    ReshardStatus snapshot() {
        return new ReshardStatus(task.taskId(), task.source(), task.destination(), task.publication(), phase, state,
                manualCutover, List.copyOf(tables.values()), lagBytes, lagSeconds, lagCheckedAt, List.copyOf(attempts),
                List.copyOf(warnings), error);
    }

    TaskRecord record() {
        return new TaskRecord(task.taskId(), task.source(), task.destination(), task.publication(), phase.name(),
                state.name(), lagBytes, error);
    }
}
