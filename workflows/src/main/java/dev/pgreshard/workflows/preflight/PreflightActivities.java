package dev.pgreshard.workflows.preflight;

import dev.pgreshard.workflows.TaskRef;
import io.temporal.activity.ActivityInterface;
import io.temporal.activity.ActivityMethod;

/** docs/architecture.md §5.1: everything that can be known to fail before anything is created. */
@ActivityInterface(namePrefix = "Preflight")
public interface PreflightActivities {
    /**
     * Runs every check; a failure is a non-retryable ApplicationFailure whose message names the
     * database, table and fix. Read-only: creates nothing, so it can run any number of times.
     */
    @ActivityMethod
    PreflightReport check(TaskRef task);
}
