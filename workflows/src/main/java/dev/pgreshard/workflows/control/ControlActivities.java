package dev.pgreshard.workflows.control;

import io.temporal.activity.ActivityInterface;
import io.temporal.activity.ActivityMethod;

/**
 * Writes the task registry in the control store, so `tasks` / SHOW TASKS work on any Temporal
 * backend (the test server has no visibility queries). Upserts: safe to retry.
 */
@ActivityInterface(namePrefix = "Control")
public interface ControlActivities {
    @ActivityMethod
    void recordTask(TaskRecord record);
}
