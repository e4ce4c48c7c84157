package dev.pgreshard.cli.task;

import dev.pgreshard.activities.control.TaskRow;
import dev.pgreshard.activities.preflight.PlanBlockedException;
import dev.pgreshard.activities.preflight.PlanText;
import dev.pgreshard.activities.schema.SchemaPhase;
import dev.pgreshard.activities.schema.SchemaSync;
import dev.pgreshard.core.config.PgReshardConfig;
import dev.pgreshard.core.pg.PgConnector;
import dev.pgreshard.proxy.admin.TaskCommands;
import dev.pgreshard.workflows.TaskRef;
import dev.pgreshard.workflows.reshard.Phase;
import dev.pgreshard.workflows.reshard.ReshardStatus;
import dev.pgreshard.workflows.reshard.TableProgress;
import dev.pgreshard.workflows.reshard.TaskState;
import dev.pgreshard.workflows.schema.SchemaSyncResult;

import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The admin database's task commands, served by the workflow client and the control store of the
 * process that runs the proxy: {@code pgreshard run}, or a standalone {@code pgreshard proxy}, which
 * is a Temporal client only (the workers run elsewhere).
 */
public final class WorkflowTaskCommands implements TaskCommands {
    private static final long STOP_WAIT_SECONDS = 120;
    private final PgReshardConfig config;
    private final TaskService tasks;

    public WorkflowTaskCommands(PgReshardConfig config, TaskService tasks) {
        this.config = config;
        this.tasks = tasks;
    }

    @Override
    public Rows reshard(String source, String destination, String publication, boolean manualCutover,
                        boolean fenceSource) {
        try {
            return Rows.single("task_id", tasks.reshard(source, destination, publication, manualCutover, fenceSource));
        } catch (PlanBlockedException e) {
            // the operator sees every blocker with its fix, as `plan` and RESHARD … DRY_RUN show them
            throw new IllegalStateException(e.getMessage() + "\n" + PlanText.render(e.report()), e);
        }
    }

    @Override
    public Rows plan(String source, String destination, String publication) {
        return new Rows(List.of("section", "item", "detail"),
                PlanText.rows(tasks.plan(source, destination, publication, true)));
    }

    @Override
    public Rows showTasks() {
        List<List<String>> rows = new ArrayList<>();
        for (TaskRow r : tasks.tasks()) {
            rows.add(List.of(r.taskId(), r.source(), r.destination(), r.phase(), r.state(), r.createdAt().toString(),
                    Long.toString(r.lagBytes()), r.failing(), Integer.toString(r.failingAttempts()),
                    r.failingSince() == null ? "" : r.failingSince().toString()));
        }
        return new Rows(List.of("id", "source", "destination", "phase", "state", "started", "lag_bytes", "failing",
                "failing_attempts", "failing_since"), rows);
    }

    @Override
    public Rows stopTask(String taskId) {
        ReshardStatus after = tasks.stop(taskId, STOP_WAIT_SECONDS).orElseThrow(() -> new IllegalStateException(
                "task " + taskId + " was asked to stop but has not finished its cleanup after " + STOP_WAIT_SECONDS
                        + " s; is a worker running?"));
        return new Rows(List.of("task_id", "phase", "state"),
                List.of(List.of(taskId, after.phase().name(), after.state().name())));
    }

    @Override
    public Rows cutover(String taskId) {
        String id = taskId != null ? taskId : onlyTaskIn(TaskState.WAITING_FOR_CUTOVER, "CUTOVER");
        tasks.signal(id, "cutover");
        return new Rows(List.of("task_id", "signal"), List.of(List.of(id, "cutover")));
    }

    @Override
    public Rows rollback(String taskId) {
        tasks.signal(taskId, "rollback");
        return new Rows(List.of("task_id", "signal"), List.of(List.of(taskId, "rollback")));
    }

    @Override
    public Rows finalizeTask(String taskId) {
        tasks.signal(taskId, "finalize", false); // refused while reverse replication fails (SHOW TASKS says why)
        return new Rows(List.of("task_id", "signal"), List.of(List.of(taskId, "finalize")));
    }

    @Override
    public Rows schemaSync(String phase, String source, String destination, String publication) {
        SchemaPhase p = switch (phase.toLowerCase(Locale.ROOT)) {
            case "pre" -> SchemaPhase.PRE;
            case "post" -> SchemaPhase.POST;
            default -> throw new IllegalArgumentException("SCHEMA_SYNC phase must be pre or post, got '" + phase + "'");
        };
        TaskRef task = new TaskRef("schema-sync-" + source + "-" + destination, source, destination, publication);
        try {
            SchemaSyncResult r = new SchemaSync(config, new PgConnector(config)).run(task, p);
            List<List<String>> rows = new ArrayList<>();
            rows.add(List.of("applied", Integer.toString(r.statementsApplied())));
            r.warnings().forEach(w -> rows.add(List.of("warning", w)));
            return new Rows(List.of("result", "detail"), rows);
        } catch (SQLException e) {
            throw new IllegalStateException("schema sync failed: " + e.getMessage(), e);
        }
    }

    @Override
    public Rows copyData(String source, String destination, String publication) {
        throw new IllegalStateException("COPY_DATA is not served by the admin database in this build; run `pgreshard "
                + "data-sync " + source + " " + destination + " " + publication + " --sync-only`, or RESHARD, which copies "
                + "and then replicates");
    }

    @Override
    public Rows showReplication() {
        List<List<String>> rows = new ArrayList<>();
        for (ReshardStatus s : liveStatuses()) {
            if (s.phase() == Phase.REPLICATING || s.phase() == Phase.CUTOVER || s.phase() == Phase.REVERSE_REPLICATING) {
                String direction = s.phase() == Phase.REVERSE_REPLICATING ? "reverse" : "forward";
                rows.add(List.of(s.taskId(), direction, Long.toString(s.lagBytes()),
                        String.format(Locale.ROOT, "%.1f", s.lagSeconds()), s.lagCheckedAt()));
            }
        }
        return new Rows(List.of("task_id", "direction", "lag_bytes", "lag_seconds", "checked_at"), rows);
    }

    @Override
    public Rows showTableCopies() {
        List<List<String>> rows = new ArrayList<>();
        for (ReshardStatus s : liveStatuses()) {
            boolean copying = s.tables().stream().anyMatch(t -> TableProgress.COPYING.equals(t.state()));
            List<CopiesInFlight.Copy> running = copying ? tasks.copiesInFlight(s.taskId()) : List.of();
            for (TableProgress t : s.tables()) {
                rows.add(List.of(s.taskId(), t.table().toString(), t.state(), Long.toString(t.rows()),
                        Long.toString(t.bytes()), Long.toString(t.bytesPerSecond()), placement(t, running)));
            }
        }
        return new Rows(List.of("task_id", "table", "state", "rows", "bytes", "bytes_per_second", "workers"), rows);
    }

    /** Finished: who copied it at what rate; being copied: who copies what now (from Temporal), else empty. */
    private static String placement(TableProgress t, List<CopiesInFlight.Copy> running) {
        if (!TableProgress.COPYING.equals(t.state())) {
            return t.workers();
        }
        List<String> now = new ArrayList<>();
        for (CopiesInFlight.Copy c : running) {
            if (c.table().equals(t.table().toString())) {
                now.add(c.worker() + ": " + (c.range().isEmpty() ? "whole" : "range " + c.range()) + " at "
                        + c.bytesPerSecond() + " B/s");
            }
        }
        return String.join("; ", now);
    }

    private List<ReshardStatus> liveStatuses() {
        List<ReshardStatus> statuses = new ArrayList<>();
        for (TaskRow r : tasks.tasks()) {
            if (!Phase.valueOf(r.phase()).isFinal()) {
                statuses.add(tasks.status(r.taskId()));
            }
        }
        return statuses;
    }

    private String onlyTaskIn(TaskState state, String command) {
        List<String> ids = tasks.tasks().stream().filter(r -> r.state().equals(state.name())).map(TaskRow::taskId).toList();
        if (ids.size() != 1) {
            throw new IllegalArgumentException(command + " without a task id needs exactly one task in " + state + "; "
                    + (ids.isEmpty() ? "there is none" : "there are " + ids.size() + ": " + ids) + ". Name the task");
        }
        return ids.get(0);
    }
}
