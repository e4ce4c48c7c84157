package dev.pgreshard.activities.replication;

import dev.pgreshard.activities.support.ActivityProblems;
import dev.pgreshard.activities.support.WorkerMetrics;
import dev.pgreshard.core.config.PgReshardConfig;
import dev.pgreshard.core.pg.PgConnector;
import dev.pgreshard.core.topology.Topology;
import dev.pgreshard.workflows.copy.ShardSnapshot;
import dev.pgreshard.workflows.replication.ReplicationActivities;
import dev.pgreshard.workflows.replication.ReplicationRequest;
import dev.pgreshard.workflows.replication.ReplicationStatus;
import dev.pgreshard.activities.support.HeartbeatTicker;
import io.temporal.activity.Activity;
import io.temporal.activity.ActivityExecutionContext;
import io.temporal.client.ActivityCompletionException;
import io.temporal.failure.ApplicationFailure;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.sql.SQLException;
import java.util.List;

/**
 * The Temporal face of replication: thin wrappers over {@link SlotManager}, {@link ReplicationRunner}
 * and {@link StatusReader}. {@link #replicate} heartbeats the stream's {@link ReplicationStatus}
 * every {@code heartbeatMs}; a cancellation arrives as the heartbeat's exception and stops the
 * streams within a batch. Resuming needs no heartbeat details: the progress lives in the
 * destination shards.
 */
public final class ReplicationActivitiesImpl implements ReplicationActivities {
    private static final Logger log = LoggerFactory.getLogger(ReplicationActivitiesImpl.class);
    public static final String SCHEMA_DRIFT = "SchemaDrift";
    /** A stream that has run this long without failing (or applied a change) counts as working again. */
    private static final long HEALTHY_AFTER_MS = 15_000;

    private final PgReshardConfig config;
    private final PgConnector connector;
    private final ReplicationSettings settings;
    private final long heartbeatMs;
    /** The lag poll's and status's reader: keeps its connections between reads (see {@link StatusReader}). */
    private final StatusReader statusReader;

    public ReplicationActivitiesImpl(PgReshardConfig config, PgConnector connector) {
        this(config, connector, ReplicationSettings.DEFAULTS, 1000);
    }

    public ReplicationActivitiesImpl(PgReshardConfig config, PgConnector connector, ReplicationSettings settings,
                                     long heartbeatMs) {
        this.config = config;
        this.connector = connector;
        this.settings = settings;
        this.heartbeatMs = heartbeatMs;
        this.statusReader = new StatusReader(connector);
    }

    private StreamEndpoints endpoints(ReplicationRequest request) {
        return StreamEndpoints.of(Topology.of(config), request);
    }

    @Override
    public List<ShardSnapshot> createSlots(ReplicationRequest request) {
        // creating a slot waits for the source's running transactions; heartbeats meanwhile let a killed
        // worker be noticed within the heartbeat timeout instead of the start-to-close timeout
        return HeartbeatTicker.during(() -> {
            try {
                return new SlotManager(connector).createSlots(endpoints(request));
            } catch (SQLException e) {
                throw ApplicationFailure.newFailureWithCause(e.getMessage(), "SQLException", e);
            }
        });
    }

    @Override
    public void replicate(ReplicationRequest request) {
        ActivityExecutionContext context = Activity.getExecutionContext();
        ReplicationRunner runner = new ReplicationRunner(config, connector, request, settings);
        runner.start();
        try (WorkerMetrics.ReplicationMeter meter = WorkerMetrics.replication(request.task().taskId(),
                request.direction().name())) {
            long startedMs = System.currentTimeMillis();
            boolean healthy = false;
            while (runner.failure() == null && runner.isRunning()) {
                if (!healthy && (runner.changesApplied() > 0 || System.currentTimeMillis() - startedMs > HEALTHY_AFTER_MS)) {
                    healthy = true;
                    ActivityProblems.recovered(); // after failed attempts: applying again, so no longer failing
                }
                ReplicationStatus status = runner.status();
                meter.update(runner.changesApplied(), status);
                context.heartbeat(status); // throws when the workflow cancelled us
                Thread.sleep(heartbeatMs);
            }
            runner.awaitTermination();
        } catch (ActivityCompletionException e) {
            log.info("replication of {} cancelled: stopping", request.task().taskId());
            stopQuietly(runner);
            throw e;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            stopQuietly(runner);
            throw ApplicationFailure.newFailure("replication worker interrupted", "Interrupted");
        } catch (SchemaDriftException e) {
            throw ApplicationFailure.newNonRetryableFailureWithCause(e.getMessage(), SCHEMA_DRIFT, e);
        } catch (RuntimeException e) {
            stopQuietly(runner);
            throw e instanceof ApplicationFailure af ? af
                    : ApplicationFailure.newFailureWithCause(String.valueOf(e.getMessage()), e.getClass().getSimpleName(), e);
        }
        throw ApplicationFailure.newFailure("replication of " + request.task().taskId() + " ended without being cancelled",
                "StreamEnded");
    }

    private static void stopQuietly(ReplicationRunner runner) {
        runner.stop();
        try {
            runner.awaitTermination();
        } catch (InterruptedException ie) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException ignored) {
            // the stop is what matters here; the original outcome is reported by the caller
        }
    }

    @Override
    public ReplicationStatus status(ReplicationRequest request) {
        try {
            return statusReader.read(endpoints(request));
        } catch (SQLException e) {
            throw ApplicationFailure.newFailureWithCause(e.getMessage(), "SQLException", e);
        }
    }

    /** Closes the connections the status reads keep (they close by themselves after a while idle too). */
    public void closeStatusConnections() {
        statusReader.close();
    }

    @Override
    public void dropSlots(ReplicationRequest request) {
        try {
            new SlotManager(connector).dropSlots(endpoints(request));
        } catch (SQLException e) {
            throw ApplicationFailure.newFailureWithCause(e.getMessage(), "SQLException", e);
        }
    }
}
