package dev.pgreshard.cli.task;

import dev.pgreshard.activities.catalog.Catalog;
import dev.pgreshard.activities.control.ControlStore;
import dev.pgreshard.activities.control.RouteRow;
import dev.pgreshard.activities.control.TaskRow;
import dev.pgreshard.activities.preflight.PlanBlockedException;
import dev.pgreshard.activities.preflight.PlanReport;
import dev.pgreshard.activities.preflight.Preflight;
import dev.pgreshard.activities.replication.ReplicationActivitiesImpl;
import dev.pgreshard.core.pg.PgConnector;
import dev.pgreshard.workflows.TaskRef;
import dev.pgreshard.workflows.replication.Direction;
import dev.pgreshard.workflows.replication.ReplicationRequest;
import dev.pgreshard.workflows.replication.ReplicationStatus;
import dev.pgreshard.core.config.ConfigException;
import dev.pgreshard.core.config.PgReshardConfig;
import dev.pgreshard.core.pg.Identifiers;
import dev.pgreshard.core.topology.Cluster;
import dev.pgreshard.core.topology.Shard;
import dev.pgreshard.core.topology.Topology;
import dev.pgreshard.workflows.reshard.ActivityProblem;
import dev.pgreshard.workflows.reshard.Phase;
import dev.pgreshard.workflows.reshard.ReshardOptions;
import dev.pgreshard.workflows.reshard.ReshardStatus;
import dev.pgreshard.workflows.reshard.ReshardWorkflow;
import dev.pgreshard.workflows.reshard.TaskState;
import io.temporal.api.enums.v1.WorkflowIdReusePolicy;
import dev.pgreshard.workflows.reshard.ReshardInput;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowExecutionAlreadyStarted;
import io.temporal.client.WorkflowNotFoundException;
import io.temporal.client.WorkflowOptions;
import io.temporal.client.WorkflowStub;

import java.sql.Connection;
import java.sql.SQLException;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The task operations behind the CLI (and the proxy's admin database): start, list, inspect,
 * signal and stop reshard workflows, with the control store as the list of record.
 */
public final class TaskService implements AutoCloseable {
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(TaskService.class);
    private static final int MAX_ID_TRIES = 20;
    private static final List<String> FINAL_PHASES = List.of(Phase.DONE.name(), Phase.STOPPED.name(), Phase.FAILED.name());
    private final PgReshardConfig config;
    private final WorkflowClient client;
    private final ControlStore store;
    /** Measures live lag; one for the service's life, so its status reads reuse their connections. */
    private final ReplicationActivitiesImpl replication;

    public TaskService(PgReshardConfig config, WorkflowClient client) {
        this.config = config;
        this.client = client;
        this.store = ControlStore.open(config.requireControl());
        this.replication = new ReplicationActivitiesImpl(config, new PgConnector(config));
    }

    /** Starts a task and returns its id; refuses unknown clusters and a second task for the same pair. */
    public String reshard(String source, String destination, String publication, boolean manualCutover,
                          boolean fenceSource) {
        Topology topology = Topology.of(config);
        topology.cluster(source);
        topology.cluster(destination);
        if (source.equals(destination)) {
            throw new ConfigException("source and destination are both '" + source + "'; reshard into another cluster");
        }
        if (publication.isBlank()) {
            throw new ConfigException("the publication name is empty; name the source publication that lists the tables");
        }
        requirePublication(topology.cluster(source), publication);
        List<TaskRow> running = store.tasks().findBySourceAndDestinationAndPhaseNotInList(source, destination, FINAL_PHASES);
        if (!running.isEmpty()) {
            TaskRow r = running.get(0);
            throw new ConfigException("task " + r.taskId() + " already reshards " + source + " into " + destination
                    + " (phase " + r.phase() + "); stop it (pgreshard stop " + r.taskId() + ") or wait for it to finish");
        }
        // the same checks as `plan` and the workflow's preflight: a task that would fail is refused before it exists
        PlanReport plan = plan(source, destination, publication, false);
        if (plan.blocked()) {
            throw new PlanBlockedException(plan);
        }
        ReshardOptions options = new ReshardOptions(manualCutover ? true : null, null, null, null, null, null, null,
                fenceSource ? true : null); // the rest: the worker's pgreshard.toml
        ReshardInput input = new ReshardInput(source, destination, publication, options);
        // the sequence may meet an id someone started from outside: never reuse one Temporal or the registry knows
        for (int tries = 0; tries < MAX_ID_TRIES; tries++) {
            String taskId = "reshard-" + source + "-" + destination + "-" + store.tasks().nextSequence();
            if (store.tasks().findById(taskId).isPresent()) {
                continue;
            }
            WorkflowStub stub = client.newUntypedWorkflowStub(ReshardWorkflow.TYPE, WorkflowOptions.newBuilder()
                    .setWorkflowId(taskId)
                    .setTaskQueue(config.temporal().taskQueue())
                    .setWorkflowIdReusePolicy(WorkflowIdReusePolicy.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE)
                    .build());
            try {
                stub.start(input);
            } catch (WorkflowExecutionAlreadyStarted taken) {
                LOG.info("workflow id {} is taken in Temporal; trying the next", taskId);
                continue;
            }
            // listed at once, before a worker runs the claim; never over a row that is there already
            store.tasks().insertIfAbsent(taskId, source, destination, publication);
            return taskId;
        }
        throw new IllegalStateException("could not find a free task id for " + source + " -> " + destination + " after "
                + MAX_ID_TRIES + " tries");
    }

    /** Every preflight check, changing nothing ({@code pgreshard plan}, {@code RESHARD … DRY_RUN}). */
    public PlanReport plan(String source, String destination, String publication, boolean sampleThroughput) {
        return new Preflight(config, new PgConnector(config))
                .plan(new TaskRef("plan-" + source + "-" + destination, source, destination, publication), sampleThroughput);
    }

    /**
     * A misspelt publication is refused here, before a task exists, when the source can be reached
     * from this process; when it cannot, the worker's preflight reports it (the CLI may run where the
     * databases are not reachable).
     */
    private void requirePublication(Cluster source, String publication) {
        PgConnector connector = new PgConnector(config);
        for (Shard shard : source.shards()) {
            boolean exists;
            try (Connection c = connector.open(shard)) {
                exists = Catalog.publicationExists(c, publication);
            } catch (SQLException | RuntimeException e) {
                LOG.debug("cannot check publication {} on {} from here; the preflight will", publication,
                        shard.describe(), e);
                continue;
            }
            if (!exists) {
                throw new ConfigException("publication '" + publication + "' does not exist on source "
                        + shard.describe() + "; create it (CREATE PUBLICATION " + Identifiers.quote(publication)
                        + " FOR TABLE ...) or name an existing one");
            }
        }
    }

    /**
     * Every registered task; a task that replicates gets its lag measured now from the servers (and
     * written back), since the workflow writes the registry only when it changes phase.
     */
    public List<TaskRow> tasks() {
        List<TaskRow> rows = new java.util.ArrayList<>();
        for (TaskRow r : store.tasks().findAllOrderByCreatedAt()) {
            Direction direction = streaming(Phase.valueOf(r.phase()));
            if (direction == null) {
                rows.add(r);
                continue;
            }
            try {
                TaskRef task = new TaskRef(r.taskId(), r.source(), r.destination(), r.publication());
                long lag = replication.status(new ReplicationRequest(task, direction, List.of())).lagBytes();
                store.tasks().updateLag(r.taskId(), lag);
                rows.add(new TaskRow(r.taskId(), r.source(), r.destination(), r.publication(), r.phase(), r.state(), lag,
                        r.error(), r.createdAt(), Instant.now(), r.failingKey(), r.failing(), r.failingAttempts(),
                        r.failingSince()));
            } catch (RuntimeException e) {
                LOG.debug("live lag of {} unavailable; showing the stored one", r.taskId(), e);
                rows.add(r);
            }
        }
        return rows;
    }

    /** The stream a task in {@code phase} runs, null when none. */
    private static Direction streaming(Phase phase) {
        return switch (phase) {
            case REPLICATING, CUTOVER -> Direction.FORWARD;
            case REVERSE_REPLICATING -> Direction.REVERSE;
            default -> null;
        };
    }

    /**
     * The workflow's own status; the registry row when the workflow cannot answer (no worker, history
     * gone). A task started from outside that the registry does not list yet is found in Temporal.
     */
    public ReshardStatus status(String taskId) {
        Optional<TaskRow> found = store.tasks().findById(taskId);
        try {
            ReshardStatus live = queryStatus(taskId);
            return live != null ? withLiveLag(live) : endedBeforeStart(taskId, found);
        } catch (io.temporal.client.WorkflowException | TimeoutException e) {
            if (found.isEmpty()) {
                if (e instanceof TimeoutException) {
                    throw new IllegalStateException("task '" + taskId + "' is in Temporal but not in the control store's "
                            + "registry yet, and no worker answered its status query; start a worker");
                }
                throw unknownTask(taskId);
            }
            TaskRow row = found.get();
            // not found (history gone), or no worker to answer the query (e.g. the worker was killed): the registry row
            String why = e instanceof WorkflowNotFoundException ? "the workflow is no longer in Temporal"
                    : "no worker answered the status query within " + QUERY_WAIT.toSeconds() + " s (is `pgreshard "
                    + "worker` or `run` running against " + config.temporal().address() + "?)";
            return new ReshardStatus(row.taskId(), row.source(), row.destination(), row.publication(),
                    Phase.valueOf(row.phase()), TaskState.valueOf(row.state()), false, List.of(), row.lagBytes(), 0, "",
                    List.of(), List.of("live status unavailable: " + why + "; showing the control store's record of "
                    + row.updatedAt()), row.error(), failing(row));
        }
    }

    /** A workflow whose status is null failed before its first step: its input was refused. */
    private ReshardStatus endedBeforeStart(String taskId, Optional<TaskRow> row) {
        String error;
        try {
            stub(taskId).getResult(1, TimeUnit.SECONDS, ReshardStatus.class);
            error = "the workflow ended without a status";
        } catch (TimeoutException e) {
            error = "the workflow has not run its first step yet (is a worker running?)";
        } catch (io.temporal.client.WorkflowFailedException e) {
            error = dev.pgreshard.workflows.reshard.ReshardWorkflowImpl.describe(e.getCause());
        }
        String src = row.map(TaskRow::source).orElse("?");
        String dst = row.map(TaskRow::destination).orElse("?");
        String pub = row.map(TaskRow::publication).orElse("?");
        return new ReshardStatus(taskId, src, dst, pub, Phase.FAILED, TaskState.FAILED, false, List.of(), 0, 0, "",
                List.of(), List.of(), error, List.of());
    }

    /**
     * Where the source database's traffic goes and whether a rollback can still bring it back: the
     * route in the control store is the truth (the commit point of every cutover and rollback).
     */
    public List<String> traffic(ReshardStatus s) {
        RouteRow route = store.routes().findById(s.source()).orElse(null);
        String serving = route == null ? s.source() : route.cluster();
        String where = "traffic: database '" + s.source() + "' is served by '" + serving + "'" + (route == null
                ? " (no cutover recorded)" : " (route epoch " + route.epoch() + ", set by " + route.taskId() + ")");
        String rollback;
        if (s.phase() == Phase.REVERSE_REPLICATING) {
            rollback = "rollback: possible while reverse replication runs (`pgreshard rollback " + s.taskId() + "`)";
        } else if (s.phase().isFinal() && serving.equals(s.destination())) {
            rollback = "rollback: no longer possible (reverse replication ended with the task); '" + s.destination()
                    + "' is the database of record";
        } else {
            rollback = "";
        }
        return rollback.isEmpty() ? List.of(where) : List.of(where, rollback);
    }

    /** How long {@link #status} waits for a worker to answer (Temporal's own query retries take a minute). */
    private static final java.time.Duration QUERY_WAIT = java.time.Duration.ofSeconds(8);

    private ReshardStatus queryStatus(String taskId) throws TimeoutException {
        java.util.concurrent.CompletableFuture<ReshardStatus> answer = java.util.concurrent.CompletableFuture.supplyAsync(
                () -> stub(taskId).query("status", ReshardStatus.class));
        try {
            return answer.get(QUERY_WAIT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (java.util.concurrent.ExecutionException e) {
            if (e.getCause() instanceof RuntimeException r) {
                throw r;
            }
            throw new IllegalStateException(e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new TimeoutException("interrupted");
        } finally {
            answer.cancel(true);
        }
    }

    /**
     * The workflow measures lag only when it decides something (and rarely while it waits for a
     * signal); an operator asking now gets it measured now, from the servers themselves.
     */
    private ReshardStatus withLiveLag(ReshardStatus s) {
        Direction direction = streaming(s.phase());
        if (direction == null) {
            return s;
        }
        try {
            TaskRef task = new TaskRef(s.taskId(), s.source(), s.destination(), s.publication());
            ReplicationStatus live = replication.status(new ReplicationRequest(task, direction, List.of()));
            return new ReshardStatus(s.taskId(), s.source(), s.destination(), s.publication(), s.phase(), s.state(),
                    s.manualCutover(), s.tables(), live.lagBytes(), live.lagSeconds(), Instant.now().toString(),
                    s.cutoverAttempts(), s.warnings(), s.error(), s.failing());
        } catch (RuntimeException e) {
            List<String> warnings = new java.util.ArrayList<>(s.warnings());
            warnings.add("live lag unavailable (" + e.getMessage() + "); showing the workflow's last measurement");
            return new ReshardStatus(s.taskId(), s.source(), s.destination(), s.publication(), s.phase(), s.state(),
                    s.manualCutover(), s.tables(), s.lagBytes(), s.lagSeconds(), s.lagCheckedAt(), s.cutoverAttempts(),
                    warnings, s.error(), s.failing());
        }
    }

    /** The registry's failing activity ("Activity subject: error"), as the workflow's status would list it. */
    static List<ActivityProblem> failing(TaskRow row) {
        if (row.failing() == null || row.failing().isEmpty()) {
            return List.of();
        }
        String since = row.failingSince() == null ? "" : row.failingSince().toString();
        int space = row.failing().indexOf(' ');
        String activity = space > 0 ? row.failing().substring(0, space) : "";
        return List.of(new ActivityProblem(activity, "", row.failing().substring(space + 1), row.failingAttempts(), since,
                row.updatedAt().toString()));
    }

    /** The task's copy activities running now, with their workers and rates; empty if Temporal cannot say. */
    public List<CopiesInFlight.Copy> copiesInFlight(String taskId) {
        try {
            return CopiesInFlight.of(client, taskId);
        } catch (RuntimeException e) {
            LOG.debug("no pending copies of {}: {}", taskId, e.getMessage());
            return List.of();
        }
    }

    public void signal(String taskId, String signal, Object... args) {
        Optional<TaskRow> row = store.tasks().findById(taskId);
        try {
            stub(taskId).signal(signal, args);
        } catch (WorkflowNotFoundException e) {
            // Temporal's message is only the ids; the operator needs to know why nothing can be signalled
            TaskRow r = row.orElseThrow(() -> unknownTask(taskId));
            throw new ConfigException("task " + taskId + " is not running (phase " + r.phase() + ", state " + r.state()
                    + "), so it cannot take " + signal + "; `pgreshard status " + taskId + "` shows how it ended");
        }
    }

    /**
     * Signals finalize and waits (up to {@code waitSeconds}) for the workflow's verdict: the task's
     * status once it is DONE; a refusal (reverse replication failing or not drained) is thrown with
     * the workflow's reason. Empty when neither happened in time.
     */
    public Optional<ReshardStatus> finalizeTask(String taskId, boolean force, long waitSeconds) {
        long refusedBefore = refusals(status(taskId));
        signal(taskId, "finalize", force);
        long deadline = System.currentTimeMillis() + waitSeconds * 1000;
        while (System.currentTimeMillis() < deadline) {
            ReshardStatus s = status(taskId);
            if (s.phase().isFinal()) {
                return Optional.of(s);
            }
            if (refusals(s) > refusedBefore) {
                String reason = s.warnings().stream().filter(w -> w.startsWith(FINALIZE_REFUSED)).reduce((a, b) -> b)
                        .orElseThrow();
                throw new IllegalStateException(reason);
            }
            try {
                Thread.sleep(1000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        return Optional.empty();
    }

    private static final String FINALIZE_REFUSED = "finalize refused";

    private static long refusals(ReshardStatus s) {
        return s.warnings().stream().filter(w -> w.startsWith(FINALIZE_REFUSED)).count();
    }

    /**
     * Cancels the task and waits (up to {@code waitSeconds}) for its cleanup to finish. Refused after
     * the cutover: dropping reverse replication there would leave no way back (rollback or finalize do).
     */
    public Optional<ReshardStatus> stop(String taskId, long waitSeconds) {
        Optional<TaskRow> row = store.tasks().findById(taskId);
        Phase phase = currentPhase(taskId, row);
        if (phase == Phase.REVERSE_REPLICATING || phase == Phase.CUTOVER) {
            throw new IllegalStateException(StopRefusal.message(taskId, phase, row.map(TaskRow::source).orElse("the source"),
                    row.map(TaskRow::destination).orElse("the destination")));
        }
        WorkflowStub stub = stub(taskId);
        try {
            stub.cancel();
        } catch (WorkflowNotFoundException gone) {
            TaskRow r = row.orElseThrow(() -> unknownTask(taskId));
            // finished tasks cleaned up after themselves; an unfinished one whose workflow vanished did not
            if (!FINAL_PHASES.contains(r.phase())) {
                new OrphanCleanup(config, store).run(r);
            }
            return Optional.of(status(taskId));
        }
        try {
            stub.getResult(waitSeconds, TimeUnit.SECONDS, ReshardStatus.class);
        } catch (TimeoutException e) {
            return Optional.empty();
        } catch (RuntimeException expected) {
            // a cancelled workflow ends with CanceledFailure: that is the normal outcome here
        }
        return Optional.of(status(taskId));
    }

    /** The phase the workflow reports, or the registry's when it cannot answer; null when neither knows the task. */
    private Phase currentPhase(String taskId, Optional<TaskRow> row) {
        try {
            ReshardStatus live = queryStatus(taskId);
            if (live != null) {
                return live.phase();
            }
        } catch (io.temporal.client.WorkflowException | TimeoutException e) {
            LOG.debug("status query of {} before stop: {}", taskId, e.toString());
        }
        return row.map(r -> Phase.valueOf(r.phase())).orElse(null);
    }

    private WorkflowStub stub(String taskId) {
        return client.newUntypedWorkflowStub(taskId, Optional.empty(), Optional.of(ReshardWorkflow.TYPE));
    }

    private static ConfigException unknownTask(String taskId) {
        return new ConfigException("unknown task '" + taskId + "'; `pgreshard tasks` lists the tasks");
    }

    @Override
    public void close() {
        replication.closeStatusConnections();
        store.close();
    }
}
