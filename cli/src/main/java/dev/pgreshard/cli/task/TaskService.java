package dev.pgreshard.cli.task;

import dev.pgreshard.activities.catalog.Catalog;
import dev.pgreshard.activities.control.ControlStore;
import dev.pgreshard.activities.control.TaskRow;
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
import dev.pgreshard.workflows.reshard.Phase;
import dev.pgreshard.workflows.reshard.ReshardOptions;
import dev.pgreshard.workflows.reshard.ReshardStatus;
import dev.pgreshard.workflows.reshard.ReshardWorkflow;
import dev.pgreshard.workflows.reshard.TaskState;
import io.temporal.api.enums.v1.WorkflowIdReusePolicy;
import io.temporal.client.WorkflowClient;
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
    private static final List<String> FINAL_PHASES = List.of(Phase.DONE.name(), Phase.STOPPED.name(), Phase.FAILED.name());
    private final PgReshardConfig config;
    private final WorkflowClient client;
    private final ControlStore store;

    public TaskService(PgReshardConfig config, WorkflowClient client) {
        this.config = config;
        this.client = client;
        this.store = ControlStore.open(config.requireControl());
    }

    /** Starts a task and returns its id; refuses unknown clusters and a second task for the same pair. */
    public String reshard(String source, String destination, String publication, boolean manualCutover,
                          boolean fenceSource) {
        Topology topology = Topology.of(config);
        topology.cluster(source);
        Cluster dst = topology.cluster(destination);
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
        String taskId = "reshard-" + source + "-" + destination + "-" + store.tasks().nextSequence();
        int parallelism = config.general().copyParallelism() > 0 ? config.general().copyParallelism() : dst.shardCount();
        ReshardOptions options = new ReshardOptions(manualCutover, parallelism,
                config.general().cutoverLagThresholdBytes(), config.general().cutoverPauseBudgetMs(),
                null, null, null, fenceSource).withDefaults();
        store.tasks().upsert(taskId, source, destination, publication, Phase.PREFLIGHT.name(), TaskState.RUNNING.name(), 0,
                "");
        ReshardWorkflow wf = client.newWorkflowStub(ReshardWorkflow.class, WorkflowOptions.newBuilder()
                .setWorkflowId(taskId)
                .setTaskQueue(config.temporal().taskQueue())
                .setWorkflowIdReusePolicy(WorkflowIdReusePolicy.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE)
                .build());
        try {
            WorkflowClient.start(wf::reshard, source, destination, publication, options);
        } catch (RuntimeException e) {
            // no workflow will ever update this row: close it, or it would block the next RESHARD of the pair
            store.tasks().upsert(taskId, source, destination, publication, Phase.FAILED.name(), TaskState.FAILED.name(),
                    0, "could not start the workflow: " + e.getMessage());
            throw e;
        }
        return taskId;
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

    public List<TaskRow> tasks() {
        return store.tasks().findAllOrderByCreatedAt();
    }

    /** The workflow's own status; the registry row when the workflow cannot answer (no worker, history gone). */
    public ReshardStatus status(String taskId) {
        TaskRow row = row(taskId);
        try {
            return withLiveLag(queryStatus(taskId));
        } catch (io.temporal.client.WorkflowException | TimeoutException e) {
            // not found (history gone), or no worker to answer the query (e.g. the worker was killed): the registry row
            String why = e instanceof WorkflowNotFoundException ? "the workflow is no longer in Temporal"
                    : "no worker answered the status query within " + QUERY_WAIT.toSeconds() + " s (is `pgreshard "
                    + "worker` or `run` running against " + config.temporal().address() + "?)";
            return new ReshardStatus(row.taskId(), row.source(), row.destination(), row.publication(),
                    Phase.valueOf(row.phase()), TaskState.valueOf(row.state()), false, List.of(), row.lagBytes(), 0, "",
                    List.of(), List.of("live status unavailable: " + why + "; showing the control store's record of "
                    + row.updatedAt()), row.error());
        }
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
        Direction direction = switch (s.phase()) {
            case REPLICATING, CUTOVER -> Direction.FORWARD;
            case REVERSE_REPLICATING -> Direction.REVERSE;
            default -> null;
        };
        if (direction == null) {
            return s;
        }
        try {
            TaskRef task = new TaskRef(s.taskId(), s.source(), s.destination(), s.publication());
            ReplicationStatus live = new ReplicationActivitiesImpl(config, new PgConnector(config))
                    .status(new ReplicationRequest(task, direction, List.of()));
            return new ReshardStatus(s.taskId(), s.source(), s.destination(), s.publication(), s.phase(), s.state(),
                    s.manualCutover(), s.tables(), live.lagBytes(), live.lagSeconds(), Instant.now().toString(),
                    s.cutoverAttempts(), s.warnings(), s.error());
        } catch (RuntimeException e) {
            List<String> warnings = new java.util.ArrayList<>(s.warnings());
            warnings.add("live lag unavailable (" + e.getMessage() + "); showing the workflow's last measurement");
            return new ReshardStatus(s.taskId(), s.source(), s.destination(), s.publication(), s.phase(), s.state(),
                    s.manualCutover(), s.tables(), s.lagBytes(), s.lagSeconds(), s.lagCheckedAt(), s.cutoverAttempts(),
                    warnings, s.error());
        }
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

    public void signal(String taskId, String signal) {
        TaskRow row = row(taskId);
        try {
            stub(taskId).signal(signal);
        } catch (WorkflowNotFoundException e) {
            // Temporal's message is only the ids; the operator needs to know why nothing can be signalled
            throw new ConfigException("task " + taskId + " is not running (phase " + row.phase() + ", state " + row.state()
                    + "), so it cannot take " + signal + "; `pgreshard status " + taskId + "` shows how it ended");
        }
    }

    /** Cancels the task and waits (up to {@code waitSeconds}) for its cleanup to finish. */
    public Optional<ReshardStatus> stop(String taskId, long waitSeconds) {
        TaskRow row = row(taskId);
        WorkflowStub stub = stub(taskId);
        try {
            stub.cancel();
        } catch (WorkflowNotFoundException gone) {
            // finished tasks cleaned up after themselves; an unfinished one whose workflow vanished did not
            if (!FINAL_PHASES.contains(row.phase())) {
                new OrphanCleanup(config, store).run(row);
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

    private WorkflowStub stub(String taskId) {
        return client.newUntypedWorkflowStub(taskId, Optional.empty(), Optional.of(ReshardWorkflow.TYPE));
    }

    private TaskRow row(String taskId) {
        return store.tasks().findById(taskId).orElseThrow(() -> new ConfigException(
                "unknown task '" + taskId + "'; `pgreshard tasks` lists the tasks"));
    }

    @Override
    public void close() {
        store.close();
    }
}
