package dev.pgreshard.workflows.reshard;

import java.util.List;

/**
 * The answer to the `status` query: everything an operator needs at a glance.
 *
 * @param lagBytes       replication lag at the last check (forward before cutover, reverse after)
 * @param lagSeconds     seconds behind at the last check
 * @param lagCheckedAt   workflow time of that check (ISO-8601; empty: not yet)
 * @param failing        activities failing and being retried now, with their last error
 */
public record ReshardStatus(String taskId, String source, String destination, String publication, Phase phase,
                            TaskState state, boolean manualCutover, List<TableProgress> tables, long lagBytes,
                            double lagSeconds, String lagCheckedAt, List<CutoverAttempt> cutoverAttempts,
                            List<String> warnings, String error, List<ActivityProblem> failing) {
    public ReshardStatus {
        failing = failing == null ? List.of() : failing;
    }

    /** The problem of a failing activity of type {@code activity}, or null. */
    public ActivityProblem failing(String activity) {
        return failing.stream().filter(p -> p.activity().equals(activity)).findFirst().orElse(null);
    }
}
