package dev.pgreshard.activities.support;

import dev.pgreshard.core.metrics.Metrics;
import dev.pgreshard.core.topology.TableName;
import dev.pgreshard.workflows.replication.ReplicationStatus;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.DoubleAdder;

/**
 * What the worker's activities publish into the JVM's registry ({@link Metrics}), scraped from the
 * proxy's control port under {@code pgreshard run} or from {@code pgreshard worker --metrics-port}.
 *
 * <table>
 * <caption>Prometheus names</caption>
 * <tr><td>pgreshard_copy_rows_total{task,table}</td><td>rows written to destination shards by table copies
 * (a retried copy counts again)</td></tr>
 * <tr><td>pgreshard_copy_bytes_total{task,table}</td><td>COPY bytes read from the source</td></tr>
 * <tr><td>pgreshard_replication_changes_total{task,direction}</td><td>row changes committed on the destination;
 * {@code rate()} of it is the apply rate</td></tr>
 * <tr><td>pgreshard_replication_lag_bytes{task,direction}</td><td>WAL between the source's position and what
 * is durably applied (summed over source shards)</td></tr>
 * <tr><td>pgreshard_replication_lag_seconds{task,direction}</td><td>age of the oldest unapplied change (worst stream)</td></tr>
 * <tr><td>pgreshard_activity_failing_attempts{task,activity}</td><td>failed attempts of an activity that is being
 * retried now (absent when nothing fails); see {@link ActivityProblems}</td></tr>
 * <tr><td>pgreshard_activity_failing_since_seconds{task,activity}</td><td>when it started failing (Unix time)</td></tr>
 * <tr><td>pgreshard_activity_failures_total{task,activity}</td><td>failed activity attempts</td></tr>
 * <tr><td>pgreshard_cutover_pause_seconds{task,kind,outcome}</td><td>histogram: how long each cutover or rollback
 * (kind) kept the proxies paused; outcome = swapped | aborted</td></tr>
 * <tr><td>pgreshard_cutover_step_seconds{step}</td><td>histogram: how long each step inside a pause took (pause,
 * markers, drain, sequences, paused work, commit, swap and resume; abort and resume)</td></tr>
 * </table>
 * Lag gauges exist while their replication activity runs on this worker.
 */
public final class WorkerMetrics {
    private static final MeterRegistry REGISTRY = Metrics.registry();

    private WorkerMetrics() {
    }

    /** Turns the cumulative (rows, bytes) of one copy attempt into counter increments. */
    public static final class CopyMeter {
        private final Counter rows;
        private final Counter bytes;
        private long lastRows;
        private long lastBytes;

        CopyMeter(String task, TableName table) {
            rows = Counter.builder("pgreshard.copy.rows").description("rows written to destination shards by table copies")
                    .tag("task", task).tag("table", table.toString()).register(REGISTRY);
            bytes = Counter.builder("pgreshard.copy.bytes").description("COPY bytes read from the source")
                    .baseUnit("bytes").tag("task", task).tag("table", table.toString()).register(REGISTRY);
        }

        /** @param totalRows rows so far in this attempt; @param totalBytes bytes so far in this attempt */
        public synchronized void progress(long totalRows, long totalBytes) {
            if (totalRows > lastRows) {
                rows.increment(totalRows - lastRows);
                lastRows = totalRows;
            }
            if (totalBytes > lastBytes) {
                bytes.increment(totalBytes - lastBytes);
                lastBytes = totalBytes;
            }
        }
    }

    public static CopyMeter copy(String task, TableName table) {
        return new CopyMeter(task, table);
    }

    /** The meters of one running replication stream; {@link #close()} removes its lag gauges. */
    public static final class ReplicationMeter implements AutoCloseable {
        private final Counter changes;
        private final AtomicLong lagBytes = new AtomicLong();
        private final DoubleAdder lagSeconds = new DoubleAdder();
        private final List<Meter> gauges;
        private long lastChanges;

        ReplicationMeter(String task, String direction) {
            changes = Counter.builder("pgreshard.replication.changes")
                    .description("row changes committed on the destination by replication")
                    .tag("task", task).tag("direction", direction).register(REGISTRY);
            gauges = List.of(
                    Gauge.builder("pgreshard.replication.lag.bytes", lagBytes, AtomicLong::get).baseUnit("bytes")
                            .description("WAL not yet durably applied, summed over source shards")
                            .tag("task", task).tag("direction", direction).register(REGISTRY),
                    Gauge.builder("pgreshard.replication.lag.seconds", lagSeconds, DoubleAdder::sum).baseUnit("seconds")
                            .description("age of the oldest change not yet applied (worst stream)")
                            .tag("task", task).tag("direction", direction).register(REGISTRY));
        }

        /** @param changesApplied cumulative changes of this activity run; @param status its latest status */
        public synchronized void update(long changesApplied, ReplicationStatus status) {
            if (changesApplied > lastChanges) {
                changes.increment(changesApplied - lastChanges);
                lastChanges = changesApplied;
            }
            lagBytes.set(status.lagBytes());
            lagSeconds.reset();
            lagSeconds.add(status.lagSeconds());
        }

        @Override
        public void close() {
            gauges.forEach(REGISTRY::remove);
        }
    }

    public static ReplicationMeter replication(String task, String direction) {
        return new ReplicationMeter(task, direction.toLowerCase());
    }

    /** Per task and activity type: attempts and start of the failures being retried now. */
    private static final java.util.Map<List<String>, long[]> FAILING = new java.util.concurrent.ConcurrentHashMap<>();

    /** A failed attempt that will be retried: the failing gauges show it, the failure counter counts it. */
    static void activityFailing(String task, String activity, int attempt) {
        Counter.builder("pgreshard.activity.failures").description("failed activity attempts")
                .tag("task", task).tag("activity", activity).register(REGISTRY).increment();
        long[] state = FAILING.computeIfAbsent(List.of(task, activity), k -> {
            long[] fresh = {0, System.currentTimeMillis() / 1000};
            Gauge.builder("pgreshard.activity.failing.attempts", fresh, a -> a[0])
                    .description("failed attempts of an activity being retried now")
                    .tag("task", task).tag("activity", activity).register(REGISTRY);
            Gauge.builder("pgreshard.activity.failing.since.seconds", fresh, a -> a[1])
                    .description("when the activity being retried started failing (Unix time)")
                    .tag("task", task).tag("activity", activity).register(REGISTRY);
            return fresh;
        });
        state[0] = attempt;
    }

    /** The activity works again (or was given up on): its failing gauges go away. */
    static void activityRecovered(String task, String activity) {
        if (FAILING.remove(List.of(task, activity)) != null) {
            REGISTRY.find("pgreshard.activity.failing.attempts").tag("task", task).tag("activity", activity).meters()
                    .forEach(REGISTRY::remove);
            REGISTRY.find("pgreshard.activity.failing.since.seconds").tag("task", task).tag("activity", activity).meters()
                    .forEach(REGISTRY::remove);
        }
    }

    /**
     * Records how long a cutover (or rollback) kept the proxies paused, from the pause to the resume.
     *
     * @param kind    cutover or rollback
     * @param swapped true when traffic moved; false when the attempt was aborted and traffic resumed where it was
     */
    public static void cutoverPause(String task, String kind, boolean swapped, Duration pause) {
        Timer.builder("pgreshard.cutover.pause").description("how long each cutover or rollback kept the proxies paused")
                .tag("task", task).tag("kind", kind.toLowerCase()).tag("outcome", swapped ? "swapped" : "aborted")
                .serviceLevelObjectives(Duration.ofMillis(10), Duration.ofMillis(25), Duration.ofMillis(50),
                        Duration.ofMillis(100), Duration.ofMillis(250), Duration.ofMillis(500), Duration.ofSeconds(1),
                        Duration.ofSeconds(2), Duration.ofSeconds(5))
                .register(REGISTRY).record(pause);
    }

    /** One step inside a cutover's or rollback's pause (see TrafficSwitch): where the pause's milliseconds went. */
    public static void cutoverStep(String step, Duration took) {
        Timer.builder("pgreshard.cutover.step").description("how long each step inside a cutover's or rollback's pause took")
                .tag("step", step)
                .serviceLevelObjectives(Duration.ofMillis(1), Duration.ofMillis(5), Duration.ofMillis(10),
                        Duration.ofMillis(25), Duration.ofMillis(50), Duration.ofMillis(100), Duration.ofMillis(250),
                        Duration.ofMillis(1000))
                .register(REGISTRY).record(took);
    }
}
