package dev.pgreshard.activities.copy;

import dev.pgreshard.activities.support.TaskLogContext;
import dev.pgreshard.core.config.PgReshardConfig;
import dev.pgreshard.core.pg.Identifiers;
import dev.pgreshard.core.pg.PgConnector;
import dev.pgreshard.core.topology.Cluster;
import dev.pgreshard.core.topology.Shard;
import dev.pgreshard.core.topology.Topology;
import dev.pgreshard.workflows.copy.HeldSnapshot;
import dev.pgreshard.workflows.copy.KeyRange;
import dev.pgreshard.workflows.copy.RangeCopyRequest;
import dev.pgreshard.workflows.copy.RangeCopyResult;
import dev.pgreshard.workflows.copy.SnapshotHold;
import dev.pgreshard.workflows.copy.TableCopyRequest;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

/**
 * The worker side of a split table copy (see SplitTableCopy in workflows): holding a snapshot,
 * waiting for it to be published, copying one key range at it, emptying the table for a restart.
 * {@code beat} is the activity heartbeat; it throws when the activity is cancelled, which ends a
 * hold (the snapshot is released) or aborts a range (its COPY streams are aborted, nothing commits).
 */
final class SplitCopier {
    private static final Logger LOG = LoggerFactory.getLogger(SplitCopier.class);
    private static final AtomicInteger THREADS = new AtomicInteger();
    private final PgReshardConfig config;
    private final TableCopier copier;
    private final PgConnector connector;
    private final SnapshotBoard board;
    private final String worker;

    SplitCopier(PgReshardConfig config, PgConnector connector, TableCopier copier, String worker) {
        this.config = config;
        this.connector = connector;
        this.copier = copier;
        this.board = config.control() == null ? null : new SnapshotBoard(config.control());
        this.worker = worker;
    }

    /** Exports the snapshot, publishes it, and heartbeats until {@code beat} throws (cancelled). */
    void hold(SnapshotHold hold, Runnable beat) throws SQLException, InterruptedException {
        Shard shard = Topology.of(config).cluster(hold.task().source()).shard(hold.sourceShard());
        SourceSnapshot snapshot = copier.snapshot(shard, hold.task(), hold.table(), (t, r, b) -> beat.run(),
                new LongAdder(), new LongAdder());
        try {
            requireBoard().publish(hold, new HeldSnapshot(hold.sourceShard(), snapshot.snapshotId(), snapshot.lsn(), worker));
            LOG.info("holding snapshot {} of {} on {} (slot {}, LSN {}) for its key ranges", snapshot.snapshotId(),
                    hold.table(), shard.describe(), snapshot.slot(), snapshot.lsn());
            while (true) {
                // nothing may be sent on the exporting connection: a command would end the snapshot
                beat.run();
                Thread.sleep(1000);
            }
        } finally {
            try {
                snapshot.close();
            } catch (SQLException e) {
                LOG.warn("closing the snapshot connection of {}: {}", hold.table(), e.getMessage());
            }
            try {
                requireBoard().remove(hold);
            } catch (SQLException e) {
                LOG.warn("could not remove the published snapshot {} from the control store: {}", hold.key(), e.getMessage());
            }
        }
    }

    /** The snapshot of {@code hold} once its holder published it. */
    HeldSnapshot await(SnapshotHold hold, Runnable beat) throws SQLException, InterruptedException {
        while (true) {
            Optional<HeldSnapshot> found = requireBoard().find(hold);
            if (found.isPresent()) {
                return found.get();
            }
            beat.run();
            Thread.sleep(250);
        }
    }

    /**
     * Copies the key range from every source shard at its held snapshot. On a retry the range is first
     * deleted on every destination shard: an earlier attempt may have committed it on some of them.
     */
    RangeCopyResult copyRange(RangeCopyRequest request, boolean retry, CopyListener listener)
            throws SQLException, IOException, InterruptedException {
        return copier.inScope("copy of range " + (request.index() + 1) + " of " + request.table(),
                scope -> copyRange(request, retry, listener, scope));
    }

    private RangeCopyResult copyRange(RangeCopyRequest request, boolean retry, CopyListener listener, CopyScope scope)
            throws SQLException, IOException, InterruptedException {
        long started = System.nanoTime();
        Cluster source = Topology.of(config).cluster(request.task().source());
        Cluster destination = Topology.of(config).cluster(request.task().destination());
        LongAdder rows = new LongAdder();
        LongAdder bytes = new LongAdder();
        // a connection taken after the stop (the copy moving on to the next source shard) is aborted at once:
        // once this activity reports its cancellation, nothing of it may still write
        RangeCopy rangeCopy = copier.rangeCopy(request.task(), request.table(), rows, bytes, scope);
        String where = where(request.keyColumn(), request.keyType(), request.range());
        if (retry) {
            for (Shard shard : destination.shards()) {
                try (Connection c = connector.open(shard); Statement s = c.createStatement()) {
                    int deleted = s.executeUpdate("DELETE FROM " + request.table().quoted() + where);
                    LOG.info("retry of range {}/{} of {}: deleted {} row(s) an earlier attempt wrote on {}",
                            request.index() + 1, request.count(), request.table(), deleted, shard.describe());
                }
            }
        }
        java.util.concurrent.atomic.AtomicBoolean stopped = new java.util.concurrent.atomic.AtomicBoolean();
        CompletableFuture<Long> copying = CompletableFuture.supplyAsync(() -> {
            long written = 0;
            try {
                for (HeldSnapshot snapshot : request.snapshots()) {
                    if (stopped.get()) {
                        throw new IOException("copy of range " + (request.index() + 1) + " of " + request.table() + " stopped");
                    }
                    written += rangeCopy.copy(source.shard(snapshot.sourceShard()), snapshot.snapshotId(), where);
                }
                return written;
            } catch (SQLException | IOException e) {
                throw new CompletionException(e);
            }
        }, r -> TaskLogContext.daemonThreads("pgreshard-range-", THREADS).newThread(r).start());
        try {
            while (true) {
                try {
                    long written = copying.get(1, TimeUnit.SECONDS);
                    listener.progress(request.table(), rows.sum(), bytes.sum());
                    long millis = (System.nanoTime() - started) / 1_000_000;
                    LOG.info("copied range {}/{} of {}: {} rows, {} bytes in {} ms", request.index() + 1,
                            request.count(), request.table(), written, bytes.sum(), millis);
                    return new RangeCopyResult(request.table(), request.index(), written, bytes.sum(), millis, worker);
                } catch (TimeoutException e) {
                    listener.progress(request.table(), rows.sum(), bytes.sum());
                }
            }
        } catch (ExecutionException e) {
            stopped.set(true);
            scope.abortAll();
            Throwable cause = e.getCause() instanceof CompletionException ce ? ce.getCause() : e.getCause();
            if (cause instanceof SnapshotGoneException gone) {
                throw gone;
            }
            throw TableCopier.rethrow(request.table(), cause);
        } catch (InterruptedException | RuntimeException | Error e) {
            stopped.set(true);
            scope.abortAll(); // cancelled (a heartbeat threw) or interrupted: nothing may commit now
            try {
                copying.get(60, TimeUnit.SECONDS); // the copying thread has ended before the cancellation is reported
            } catch (ExecutionException | TimeoutException | InterruptedException | RuntimeException ended) {
                LOG.debug("range copy of {} ended after its stop: {}", request.table(), ended.toString());
            }
            throw e;
        }
    }

    /** Before a restart at a new snapshot: the table emptied on every destination shard. */
    void empty(TableCopyRequest request) throws SQLException {
        copier.prepareDestinations(Topology.of(config).cluster(request.task().destination()), request.table(), true);
    }

    /** " WHERE key >= 'from'::type AND key < 'to'::type", either end left out when open. */
    static String where(String keyColumn, String keyType, KeyRange range) {
        StringBuilder b = new StringBuilder();
        if (range.from() != null) {
            b.append(keyColumn).append(" >= ").append(Identifiers.literal(range.from())).append("::").append(keyType);
        }
        if (range.to() != null) {
            b.append(b.isEmpty() ? "" : " AND ").append(keyColumn).append(" < ").append(Identifiers.literal(range.to()))
                    .append("::").append(keyType);
        }
        return b.isEmpty() ? "" : " WHERE " + b;
    }

    private SnapshotBoard requireBoard() {
        if (board == null) {
            throw new IllegalStateException("split copies need the control store ([control] in pgreshard.toml)");
        }
        return board;
    }
}
