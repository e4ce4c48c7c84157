package dev.pgreshard.activities.cutover;

import dev.pgreshard.activities.control.ControlStore;
import dev.pgreshard.activities.control.ProxyRegistration;
import dev.pgreshard.activities.control.ProxyRow;
import dev.pgreshard.activities.replication.SlotManager;
import dev.pgreshard.activities.replication.StreamEndpoints;
import dev.pgreshard.activities.support.HeartbeatTicker;
import dev.pgreshard.core.config.PgReshardConfig;
import dev.pgreshard.core.pg.PgConnector;
import dev.pgreshard.core.topology.Topology;
import dev.pgreshard.workflows.TaskRef;
import dev.pgreshard.workflows.cutover.CutoverActivities;
import dev.pgreshard.workflows.cutover.CutoverRequest;
import dev.pgreshard.workflows.cutover.CutoverResult;
import dev.pgreshard.workflows.replication.Direction;
import dev.pgreshard.workflows.replication.ReplicationRequest;
import io.temporal.activity.Activity;
import io.temporal.failure.ApplicationFailure;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

/**
 * The cutover and the rollback of docs/architecture.md §5.8–9, both a {@link TrafficSwitch} of the task's
 * client database (named like its source cluster): the cutover drains forward replication and
 * creates reverse replication (publication before the pause, slots inside it, so the reverse stream
 * starts exactly where the destination starts taking writes); the rollback drains reverse
 * replication. Neither throws for an ordinary refusal: it answers {@code swapped = false} with the
 * reason, and the workflow keeps replicating.
 */
public final class CutoverActivitiesImpl implements CutoverActivities {
    private static final Logger log = LoggerFactory.getLogger(CutoverActivitiesImpl.class);

    private final PgReshardConfig config;
    private final PgConnector connector;
    private final ControlStore store;

    public CutoverActivitiesImpl(PgReshardConfig config, PgConnector connector, ControlStore store) {
        this.config = config;
        this.connector = connector;
        this.store = store;
    }

    @Override
    public CutoverResult cutover(CutoverRequest request) {
        TaskRef task = request.task();
        StreamEndpoints forward = endpoints(task, Direction.FORWARD);
        StreamEndpoints reverse = endpoints(task, Direction.REVERSE);
        TrafficSwitch.PausedWork work = new TrafficSwitch.PausedWork() {
            private SourceFence fence;
            private List<Connection> fenced = List.of();

            @Override
            public void prepare() throws SQLException {
                new SlotManager(connector).ensurePublications(reverse);
                fence = request.fenceSource() ? fence(task) : null;
            }

            @Override
            public void whilePaused(StreamDrain drain, PauseClock clock) throws SQLException {
                if (fence != null) {
                    fence.revoke(drain.readShards());
                    fenced = drain.readShards();
                }
                createSlots(drain.writeShards(), reverse, clock.remainingMs());
            }

            @Override
            public void undo() {
                try {
                    if (!fenced.isEmpty()) {
                        fence.grant(fenced);
                    }
                } catch (SQLException | RuntimeException e) {
                    log.warn("granting writes back on the source after the aborted cutover of {}: {}; grant them by hand",
                            task.taskId(), e.getMessage());
                }
            }

            @Override
            public void cleanUpAfterAbort() {
                try {
                    new SlotManager(connector).dropSlots(reverse);
                } catch (SQLException | RuntimeException e) {
                    log.warn("dropping the reverse slots of the aborted cutover of {}: {} (the task's cleanup drops them "
                            + "again)", task.taskId(), e.getMessage());
                }
            }
        };
        return HeartbeatTicker.whileRunning(() -> newSwitch().run(new TrafficSwitch.Plan("CUTOVER", task, task.source(),
                task.source(), task.destination(), forward, work), request.pauseBudgetMs()));
    }

    @Override
    public CutoverResult rollback(CutoverRequest request) {
        TaskRef task = request.task();
        StreamEndpoints reverse = endpoints(task, Direction.REVERSE);
        TrafficSwitch.PausedWork work = new TrafficSwitch.PausedWork() {
            private SourceFence fence;
            private List<Connection> unfenced = List.of();

            @Override
            public void prepare() throws SQLException {
                fence = request.fenceSource() ? fence(task) : null;
            }

            @Override
            public void whilePaused(StreamDrain drain, PauseClock clock) throws SQLException {
                if (fence != null) {
                    fence.grant(drain.writeShards()); // the write side of the reverse stream is the source
                    unfenced = drain.writeShards();
                }
            }

            @Override
            public void undo() {
                try {
                    if (!unfenced.isEmpty()) {
                        fence.revoke(unfenced);
                    }
                } catch (SQLException | RuntimeException e) {
                    log.warn("re-fencing the source after the aborted rollback of {}: {}", task.taskId(), e.getMessage());
                }
            }
        };
        return HeartbeatTicker.whileRunning(() -> newSwitch().run(new TrafficSwitch.Plan("ROLLBACK", task, task.source(),
                task.destination(), task.source(), reverse, work), request.pauseBudgetMs()));
    }

    @Override
    public void resumeProxies(TaskRef task) {
        List<String> urls = store.proxies().findLive(ProxyRegistration.LIVENESS.toSeconds()).stream()
                .map(ProxyRow::controlUrl).toList();
        Map<String, String> stuck = new ProxyFleet(config.requireAdmin(), urls).serving(task.source()).resume(task.source());
        if (!stuck.isEmpty()) {
            throw ApplicationFailure.newFailure("could not resume every proxy of '" + task.source() + "': "
                    + String.join("; ", stuck.values()), "ResumeFailed");
        }
    }

    private SourceFence fence(TaskRef task) throws SQLException {
        try (Connection c = connector.open(Topology.of(config).cluster(task.source()).shard(0))) {
            SourceFence fence = SourceFence.of(config, task.source(), task.publication(), c);
            String whyNot = fence.whyNot();
            if (whyNot != null) {
                log.warn("{}: {}", task.taskId(), whyNot);
                return null;
            }
            return fence;
        }
    }

    /** Creates the reverse slot on every destination shard at once, each bounded by the pause budget left. */
    private void createSlots(List<Connection> shards, StreamEndpoints reverse, long timeoutMs) throws SQLException {
        SlotManager slots = new SlotManager(connector);
        List<CompletableFuture<?>> creations = new ArrayList<>();
        for (int i = 0; i < shards.size(); i++) {
            int shard = i;
            creations.add(CompletableFuture.supplyAsync(() -> {
                try {
                    return slots.createSlot(shards.get(shard), reverse, shard, timeoutMs);
                } catch (SQLException e) {
                    throw new CompletionException(e);
                }
            }));
        }
        try {
            CompletableFuture.allOf(creations.toArray(CompletableFuture[]::new)).join();
        } catch (CompletionException e) {
            Throwable cause = e.getCause();
            String why = "57014".equals(cause instanceof SQLException se ? se.getSQLState() : null)
                    ? "creating the reverse replication slots outlasted the pause budget (a long-running transaction "
                    + "on a destination server delays a new slot)" : "creating the reverse replication slots failed: "
                    + cause.getMessage();
            throw new SQLException(why, cause);
        }
    }

    private StreamEndpoints endpoints(TaskRef task, Direction direction) {
        return StreamEndpoints.of(Topology.of(config), new ReplicationRequest(task, direction, List.of()));
    }

    private TrafficSwitch newSwitch() {
        return new TrafficSwitch(config, connector, store, CutoverActivitiesImpl::heartbeat);
    }

    /** Heartbeats when running as an activity (tests may call the methods directly). */
    private static void heartbeat() {
        try {
            Activity.getExecutionContext().heartbeat(null);
        } catch (IllegalStateException | NullPointerException notInActivity) {
            // called outside an activity
        }
    }
}
