package dev.pgreshard.activities.control;

import dev.pgreshard.core.config.ConfigException;
import dev.pgreshard.core.config.ControlConfig;
import dev.pgreshard.core.config.PgReshardConfig;
import dev.pgreshard.core.topology.Cluster;
import dev.pgreshard.core.topology.Topology;
import dev.pgreshard.workflows.TaskRef;
import dev.pgreshard.workflows.control.ControlActivities;
import dev.pgreshard.workflows.control.TaskRecord;
import dev.pgreshard.workflows.control.WorkerDefaults;
import io.temporal.activity.Activity;
import io.temporal.activity.ActivityExecutionContext;
import io.temporal.failure.ApplicationFailure;

import java.sql.SQLException;
import java.util.List;

/** The task's claims ({@link TaskClaims}) and its phase changes in the task registry. */
public class ControlActivitiesImpl implements ControlActivities {
    private final PgReshardConfig config;
    private final ControlConfig control;
    private final TaskRepository tasks;

    public ControlActivitiesImpl(PgReshardConfig config, ControlStore store) {
        this.config = config;
        this.control = config.requireControl();
        this.tasks = store.tasks();
    }

    @Override
    public void recordTask(TaskRecord r) {
        tasks.upsert(r.taskId(), r.source(), r.destination(), r.publication(), r.phase(), r.state(), r.lagBytes(),
                r.error());
    }

    @Override
    public WorkerDefaults claimTask(TaskRef task) {
        Cluster destination;
        try {
            Topology topology = Topology.of(config);
            topology.cluster(task.source());
            destination = topology.cluster(task.destination());
        } catch (ConfigException e) {
            throw ApplicationFailure.newNonRetryableFailure(e.getMessage() + " (the worker's configuration)",
                    CLAIM_REFUSED);
        }
        try {
            TaskClaims.claim(control, task);
        } catch (TaskClaims.Refused e) {
            throw ApplicationFailure.newNonRetryableFailure(e.getMessage(), CLAIM_REFUSED);
        } catch (SQLException e) {
            throw ApplicationFailure.newFailureWithCause("cannot claim the task in the control store: " + e.getMessage(),
                    "SQLException", e);
        }
        int parallelism = config.general().copyParallelism() > 0 ? config.general().copyParallelism()
                : destination.shardCount();
        return new WorkerDefaults(parallelism, config.general().cutoverLagThresholdBytes(),
                config.general().cutoverPauseBudgetMs(), searchAttributes());
    }

    /** What the namespace supports, asked through the worker's own client (none when called outside a worker). */
    private static List<String> searchAttributes() {
        ActivityExecutionContext context;
        try {
            context = Activity.getExecutionContext();
        } catch (IllegalStateException notInAnActivity) {
            return List.of();
        }
        return SearchAttributeSupport.supported(context.getWorkflowClient());
    }
}
