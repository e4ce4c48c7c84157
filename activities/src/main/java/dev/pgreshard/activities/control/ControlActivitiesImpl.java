package dev.pgreshard.activities.control;

import dev.pgreshard.workflows.control.ControlActivities;
import dev.pgreshard.workflows.control.TaskRecord;

/** Writes the workflow's phase changes to the task registry. */
public class ControlActivitiesImpl implements ControlActivities {
    private final TaskRepository tasks;

    public ControlActivitiesImpl(TaskRepository tasks) {
        this.tasks = tasks;
    }

    @Override
    public void recordTask(TaskRecord r) {
        tasks.upsert(r.taskId(), r.source(), r.destination(), r.publication(), r.phase(), r.state(), r.lagBytes(),
                r.error());
    }
}
