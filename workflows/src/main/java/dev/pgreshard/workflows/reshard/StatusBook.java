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
    /** Failing activities by report key, in the order they started failing. */
    private final Map<String, ActivityProblem> failing = new LinkedHashMap<>();
    private Phase phase = Phase.PREFLIGHT;
    private TaskState state = TaskState.RUNNING;
    private long lagBytes;
    private boolean lagKnown = true;
    private double lagSeconds;
    private String lagCheckedAt = "";
    private String error = "";
    private boolean trafficOnDestination;

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

    /** True between a cutover that swapped and a rollback that swapped. */
    boolean trafficOnDestination() {
        return trafficOnDestination;
    }

    long lagBytes() {
        return lagBytes;
    }

    /** An attempt that has started: listed (not swapped, in progress) until its outcome replaces it. */
    void attemptRunning(String kind, String startedAt) {
        attempts.add(new CutoverAttempt(kind, startedAt, false, 0, 0, CutoverAttempt.IN_PROGRESS));
    }

    void attempt(String kind, String startedAt, CutoverResult r) {
        attempts.removeIf(a -> a.inProgress() && a.kind().equals(kind) && a.startedAt().equals(startedAt));
        if (r.swapped()) {
            trafficOnDestination = kind.equals("CUTOVER");
        }
        attempts.add(new CutoverAttempt(kind, startedAt, r.swapped(), r.pauseMs(), r.lagBytes(), r.reason()));
    }

    int failedAttemptsSinceLastSwap() {
        int n = 0;
        for (int i = attempts.size() - 1; i >= 0 && !attempts.get(i).swapped(); i--) {
            n += attempts.get(i).inProgress() ? 0 : 1;
        }
        return n;
    }

    void warn(String warning) {
        warnings.add(warning);
    }

    void warnAll(List<String> more) {
        warnings.addAll(more);
    }

    /** A failed attempt: listed while it is retried (since = its first failure), dropped once Temporal gives up. */
    void activityFailing(ActivityFailureReport r) {
        if (!r.willRetry()) {
            failing.remove(r.key());
            return;
        }
        ActivityProblem was = failing.get(r.key());
        String at = now();
        failing.put(r.key(), new ActivityProblem(r.activity(), r.subject(), r.error(), r.attempt(),
                was == null ? at : was.since(), at));
    }

    void activityRecovered(String key) {
        failing.remove(key);
    }

    /** Drops the problems of {@code activity} (its run was stopped on purpose). */
    void activityStopped(String activity) {
        failing.values().removeIf(p -> p.activity().equals(activity));
    }

    /** The problem of a failing activity of type {@code activity}, or null. */
    ActivityProblem failing(String activity) {
        return failing.values().stream().filter(p -> p.activity().equals(activity)).findFirst().orElse(null);
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
                List.copyOf(warnings), error, List.copyOf(failing.values()));
    }

    TaskRecord record() {
        return new TaskRecord(task.taskId(), task.source(), task.destination(), task.publication(), phase.name(),
                state.name(), lagBytes, error);
    }
}
