package dev.pgreshard.workflows.control;

import dev.pgreshard.workflows.TaskRef;
import io.temporal.activity.ActivityInterface;
import io.temporal.activity.ActivityMethod;

/**
 * The task registry in the control store, so `tasks` / SHOW TASKS work on any Temporal backend
 * (the test server has no visibility queries), and the claims every task makes there first.
 */
@ActivityInterface(namePrefix = "Control")
public interface ControlActivities {
    /** Upserts the task's row; never touches a row registered for another pair. Safe to retry. */
    @ActivityMethod
    void recordTask(TaskRecord record);

    /**
     * The first step of every task, whoever started it: checks the names against the worker's config
     * and claims the pair in the control store — one live task per cluster, a source not routed
     * elsewhere, a destination no other database is routed to — then registers the task. A conflict
     * fails non-retryably ({@value #CLAIM_REFUSED}) naming the other task. Idempotent for the same task.
     *
     * @return the worker's defaults for the options the input left out
     */
    @ActivityMethod
    WorkerDefaults claimTask(TaskRef task);

    /** Failure type of a refused claim. */
    String CLAIM_REFUSED = "TaskClaimRefused";
}
