package dev.pgreshard.activities.cutover;

import dev.pgreshard.activities.control.ControlStore;
import dev.pgreshard.activities.control.ProxyRegistration;
import dev.pgreshard.activities.control.ProxyRow;
import dev.pgreshard.activities.replication.StreamEndpoints;
import dev.pgreshard.activities.support.HeartbeatTicker;
import dev.pgreshard.core.config.PgReshardConfig;
import dev.pgreshard.core.pg.PgConnector;
import dev.pgreshard.core.topology.Topology;
import dev.pgreshard.workflows.TaskRef;
import dev.pgreshard.workflows.cutover.CutoverActivities;
import dev.pgreshard.workflows.cutover.CutoverRequest;
import dev.pgreshard.workflows.cutover.CutoverResult;
import dev.pgreshard.workflows.cutover.DrainResult;
import dev.pgreshard.core.pg.Lsn;
import io.temporal.failure.ApplicationFailure;
import dev.pgreshard.workflows.replication.Direction;
import dev.pgreshard.workflows.replication.ReplicationRequest;
import io.temporal.activity.Activity;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.List;
import java.util.Map;

/**
 * The cutover and the rollback of docs/architecture.md §5.8–9, both a {@link TrafficSwitch} of the task's
 * client database (named like its source cluster): the cutover drains forward replication and
 * prepares reverse replication ({@link CutoverWork}: publication and slots before the pause, inside it
 * only the skip point, so the reverse stream carries exactly what the destination commits after the
 * pause); the rollback drains reverse replication. Neither throws for an ordinary refusal: it answers {@code swapped = false} with the
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
        TrafficSwitch.PausedWork work = new CutoverWork(connector, reverse,
                () -> request.fenceSource() ? fence(task) : null);
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

    /** How long finalize waits for reverse replication to apply what the destination committed. */
    static final long FINALIZE_DRAIN_MS = 60_000;

    @Override
    public DrainResult drainReverse(CutoverRequest request) {
        StreamEndpoints reverse = endpoints(request.task(), Direction.REVERSE);
        return HeartbeatTicker.whileRunning(() -> {
            try (StreamDrain drain = new StreamDrain(connector, reverse)) {
                List<Lsn> markers = drain.writeMarkers();
                PauseClock clock = new PauseClock(FINALIZE_DRAIN_MS);
                clock.start();
                try {
                    drain.awaitApplied(markers, clock, CutoverActivitiesImpl::heartbeat, StreamDrain.Polling.NOBODY_WAITING);
                    return new DrainResult(true, 0, "");
                } catch (PauseClock.OverBudgetException e) {
                    return new DrainResult(false, drain.lagBytes(markers), "the " + drain.describe() + " did not apply "
                            + "everything up to the finalize request within " + FINALIZE_DRAIN_MS / 1000 + " s");
                }
            } catch (SQLException e) {
                throw ApplicationFailure.newFailureWithCause("checking that reverse replication is drained: "
                        + e.getMessage(), "SQLException", e);
            }
        });
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
