package dev.pgreshard.cli.task;

import dev.pgreshard.activities.control.ControlStore;
import dev.pgreshard.activities.control.TaskRow;
import dev.pgreshard.activities.cutover.CutoverActivitiesImpl;
import dev.pgreshard.activities.replication.ReplicationActivitiesImpl;
import dev.pgreshard.core.config.PgReshardConfig;
import dev.pgreshard.core.pg.PgConnector;
import dev.pgreshard.workflows.TaskRef;
import dev.pgreshard.workflows.reshard.Phase;
import dev.pgreshard.workflows.reshard.TaskState;
import dev.pgreshard.workflows.replication.Direction;
import dev.pgreshard.workflows.replication.ReplicationRequest;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;

/**
 * {@code stop} of a task whose workflow Temporal no longer knows (an in-memory development server
 * restarted, or the history was deleted): nothing would ever run the workflow's own cleanup, so the
 * slots it created would hold WAL on the source forever. This does that cleanup from here, with the
 * same steps and names: resume the proxies, drop the forward and reverse slots and the reverse
 * publications, and record the task as STOPPED.
 */
final class OrphanCleanup {
    private static final Logger LOG = LoggerFactory.getLogger(OrphanCleanup.class);
    private final PgReshardConfig config;
    private final ControlStore store;

    OrphanCleanup(PgReshardConfig config, ControlStore store) {
        this.config = config;
        this.store = store;
    }

    /** Returns the problems left (empty when everything the task created is gone). */
    List<String> run(TaskRow row) {
        TaskRef task = new TaskRef(row.taskId(), row.source(), row.destination(), row.publication());
        PgConnector connector = new PgConnector(config);
        List<String> problems = new ArrayList<>();
        attempt(problems, "resume proxies", () -> new CutoverActivitiesImpl(config, connector, store).resumeProxies(task));
        ReplicationActivitiesImpl replication = new ReplicationActivitiesImpl(config, connector);
        for (Direction direction : Direction.values()) {
            attempt(problems, "drop " + direction.name().toLowerCase() + " replication slots",
                    () -> replication.dropSlots(new ReplicationRequest(task, direction, List.of())));
        }
        String note = "the workflow no longer exists in Temporal (was an in-memory server restarted?); stop dropped "
                + "what the task created directly" + (problems.isEmpty() ? "" : "; left: " + String.join("; ", problems));
        store.tasks().upsert(row.taskId(), row.source(), row.destination(), row.publication(), Phase.STOPPED.name(),
                TaskState.STOPPED.name(), 0, note);
        LOG.warn("task {}: {}", row.taskId(), note);
        return problems;
    }

    private static void attempt(List<String> problems, String what, Runnable step) {
        try {
            step.run();
        } catch (RuntimeException e) {
            problems.add("could not " + what + ": " + e.getMessage());
        }
    }
}
