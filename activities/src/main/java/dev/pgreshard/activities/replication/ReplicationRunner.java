package dev.pgreshard.activities.replication;

import dev.pgreshard.activities.support.TaskLogContext;
import dev.pgreshard.core.config.PgReshardConfig;
import dev.pgreshard.core.pg.Lsn;
import dev.pgreshard.core.pg.PgConnector;
import dev.pgreshard.core.topology.TableName;
import dev.pgreshard.core.topology.Topology;
import dev.pgreshard.workflows.copy.ShardSnapshot;
import dev.pgreshard.workflows.replication.ReplicationRequest;
import dev.pgreshard.workflows.replication.ReplicationStatus;
import dev.pgreshard.workflows.replication.StreamPosition;
import dev.pgreshard.workflows.replication.TableStart;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Runs one replication stream of a task (every shard of the cluster it reads, one thread each) until
 * stopped. The same object serves the Temporal activity and the foreground CLI:
 *
 * <pre>{@code
 * ReplicationRunner runner = new ReplicationRunner(config, connector, request, ReplicationSettings.DEFAULTS);
 * runner.start();
 * ... runner.status() ...           // lag and positions, any time
 * runner.stop();                    // e.g. from a shutdown hook on Ctrl-C
 * runner.awaitTermination();        // returns after a stop, throws on a failure
 * // or, in the foreground: runner.runUntilInterrupted(status -> print(status));
 * }</pre>
 *
 * A failure of one shard's stream stops the others; {@link #awaitTermination()} then throws it
 * ({@link SchemaDriftException} as is).
 */
public final class ReplicationRunner {
    private static final Logger log = LoggerFactory.getLogger(ReplicationRunner.class);

    private final StreamEndpoints endpoints;
    private final List<SourceStream> streams = new ArrayList<>();
    private final List<Thread> threads = new ArrayList<>();
    private final SourceWalPositions sourceWal;
    private volatile boolean stopped;

    public ReplicationRunner(PgReshardConfig config, PgConnector connector, ReplicationRequest request,
                             ReplicationSettings settings) {
        this.endpoints = StreamEndpoints.of(Topology.of(config), request);
        for (int i = 0; i < endpoints.readCluster().shardCount(); i++) {
            streams.add(new SourceStream(endpoints, i, connector, copySnapshots(request, i), settings));
        }
        this.sourceWal = new SourceWalPositions(connector, endpoints.readCluster().shards(), settings.statusIntervalMs());
    }

    /** Per table, the consistent point its copy read on source shard {@code shard}. */
    private static Map<TableName, Lsn> copySnapshots(ReplicationRequest request, int shard) {
        Map<TableName, Lsn> out = new HashMap<>();
        if (request.tableStarts() != null) {
            for (TableStart start : request.tableStarts()) {
                for (ShardSnapshot s : start.snapshots()) {
                    if (s.sourceShard() == shard && s.lsn() != null && s.lsn().isValid()) {
                        out.put(start.table(), s.lsn());
                    }
                }
            }
        }
        return out;
    }

    /** Starts one thread per source shard; returns at once. */
    public synchronized void start() {
        if (!threads.isEmpty()) {
            throw new IllegalStateException("replication of " + endpoints.task().taskId() + " is already started");
        }
        for (SourceStream s : streams) {
            Thread t = new Thread(TaskLogContext.propagating(s), "pgreshard-repl-" + endpoints.direction().name().toLowerCase() + "-" + s.sourceShard());
            t.setDaemon(true);
            threads.add(t);
            t.start();
        }
    }

    /** Asks every stream to stop: complete batches are committed, then connections close. Safe from any thread. */
    public void stop() {
        stopped = true;
        streams.forEach(SourceStream::stop);
    }

    /** True while any stream runs. */
    public boolean isRunning() {
        return streams.stream().anyMatch(SourceStream::isRunning) || threads.stream().anyMatch(Thread::isAlive);
    }

    /** The first failure of any stream, or null. */
    public Throwable failure() {
        for (SourceStream s : streams) {
            if (s.failure() != null) {
                return s.failure();
            }
        }
        return null;
    }

    /** Row changes committed on the destination since start. */
    public long changesApplied() {
        return streams.stream().mapToLong(SourceStream::changesApplied).sum();
    }

    /** Messages of backlog read through SQL decoding instead of streaming, over every stream (tests). */
    long catchUpMessages() {
        return streams.stream().mapToLong(SourceStream::catchUpMessages).sum();
    }

    /**
     * Positions per source shard; lag in bytes (summed) and seconds (the worst stream). The source's
     * WAL position is asked here too, so the lag keeps growing while a stream is blocked applying.
     */
    public ReplicationStatus status() {
        long now = System.currentTimeMillis();
        List<Lsn> walNow = sourceWal.current();
        List<StreamPosition> positions = new ArrayList<>();
        long bytes = 0;
        double seconds = 0;
        for (SourceStream s : streams) {
            StreamPosition p = s.position();
            p = new StreamPosition(p.sourceShard(), Lsn.max(p.currentLsn(), walNow.get(s.sourceShard())), p.appliedLsn(),
                    p.lastCommitEpochMs());
            positions.add(p);
            bytes += p.lagBytes();
            seconds = Math.max(seconds, s.lagSeconds(now));
        }
        return new ReplicationStatus(positions, bytes, seconds);
    }

    /**
     * Waits until every stream has ended. If one failed, stops the others and throws its failure
     * (a RuntimeException as is, anything else wrapped).
     */
    public void awaitTermination() throws InterruptedException {
        try {
            awaitStreams();
        } finally {
            sourceWal.close();
        }
    }

    private void awaitStreams() throws InterruptedException {
        while (true) {
            Throwable f = failure();
            if (f != null && !stopped) {
                log.warn("stopping every stream of {} after a failure", endpoints.task().taskId());
                stop();
            }
            boolean alive = false;
            for (Thread t : threads) {
                t.join(200);
                alive |= t.isAlive();
            }
            if (!alive) {
                break;
            }
        }
        Throwable f = failure();
        if (f instanceof RuntimeException re) {
            throw re;
        }
        if (f instanceof Error err) {
            throw err;
        }
        if (f != null) {
            throw new ReplicationException(f.getMessage(), f);
        }
    }

    /**
     * Foreground use ({@code data-sync}): starts, reports {@link #status()} to {@code progress} every
     * {@code intervalMs} until the thread is interrupted, {@link #stop()} is called (e.g. by a Ctrl-C
     * hook) or a stream fails; then stops cleanly and returns (or throws the failure).
     */
    public void runUntilInterrupted(Consumer<ReplicationStatus> progress, long intervalMs) {
        start();
        try {
            while (!stopped && failure() == null) {
                progress.accept(status());
                Thread.sleep(intervalMs);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            stop();
        }
        boolean interrupted = Thread.interrupted();
        try {
            awaitTermination();
        } catch (InterruptedException e) {
            interrupted = true;
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
        progress.accept(status());
    }
}
