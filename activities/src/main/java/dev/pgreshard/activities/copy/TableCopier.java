package dev.pgreshard.activities.copy;

import dev.pgreshard.activities.catalog.Catalog;
import dev.pgreshard.activities.catalog.Column;
import dev.pgreshard.activities.catalog.NotRetryableException;
import dev.pgreshard.activities.catalog.SourceShards;
import dev.pgreshard.activities.support.TaskLogContext;
import dev.pgreshard.core.config.PgReshardConfig;
import dev.pgreshard.core.pg.PgConnector;
import dev.pgreshard.core.sharding.ShardFunction;
import dev.pgreshard.core.topology.Cluster;
import dev.pgreshard.core.topology.Shard;
import dev.pgreshard.core.topology.ShardedTable;
import dev.pgreshard.core.topology.TableName;
import dev.pgreshard.core.topology.Topology;
import dev.pgreshard.workflows.TaskRef;
import dev.pgreshard.workflows.copy.ShardSnapshot;
import dev.pgreshard.workflows.copy.TableCopyResult;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorCompletionService;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

/**
 * docs/architecture.md §5.4: copies one table from every source shard to the destination shards, each
 * source shard read at one consistent snapshot whose LSN is returned for replication. A table
 * larger than copy_split_threshold_bytes is read as several block ranges in parallel, all at that
 * same snapshot.
 *
 * <p>Failure model: the unit of retry is the whole table. A range that fails fails the attempt
 * (its sibling streams are aborted); the next attempt ({@code retry = true}) first empties the
 * table on every destination shard and recopies at a fresh snapshot. That is safe because the copy
 * runs before replication applies anything to the table, and it needs no key to delete a range by.
 */
public final class TableCopier {
    private static final Logger LOG = LoggerFactory.getLogger(TableCopier.class);
    private static final AtomicInteger THREADS = new AtomicInteger();
    private final PgReshardConfig config;
    private final PgConnector connector;
    /**
     * copy_parallelism bounds the COPY streams of this process towards one destination, over all
     * tables copied at once (each stream holds 1 source + N destination connections), so that
     * parallel tables times parallel ranges cannot exhaust max_connections.
     */
    private final Map<String, Semaphore> streams = new ConcurrentHashMap<>();
    /** Ordinary connections, reused from range to range and table to table while copies run. */
    private final CopyConnections connections;

    public TableCopier(PgReshardConfig config, PgConnector connector) {
        this.config = config;
        this.connector = connector;
        this.connections = new CopyConnections(connector, Math.max(4, config.general().copyParallelism()));
    }

    /**
     * @param retry true on a later attempt: the table is emptied on every destination shard first.
     *              On a first attempt a non-empty destination table is an error (never overwritten).
     */
    public TableCopyResult copy(TaskRef task, TableName table, boolean retry, CopyListener listener)
            throws SQLException, IOException {
        Cluster source = Topology.of(config).cluster(task.source());
        Cluster destination = Topology.of(config).cluster(task.destination());
        long started = System.nanoTime();
        int parallelism = CopySettings.parallelism(config, destination);
        Semaphore permits = streams.computeIfAbsent(destination.name(), d -> new Semaphore(parallelism));
        LongAdder rows = new LongAdder();
        LongAdder bytes = new LongAdder();
        return inScope("copy of " + table, scope ->
                copy(task, table, retry, listener, scope, source, destination, parallelism, permits, rows, bytes, started));
    }

    private TableCopyResult copy(TaskRef task, TableName table, boolean retry, CopyListener listener, CopyScope scope,
                                 Cluster source, Cluster destination, int parallelism, Semaphore permits,
                                 LongAdder rows, LongAdder bytes, long started) throws SQLException, IOException {
        RangeCopy rangeCopy = rangeCopy(task, table, rows, bytes, scope);
        prepareDestinations(destination, table, retry);

        ExecutorService pool = Executors.newFixedThreadPool(parallelism,
                TaskLogContext.daemonThreads("pgreshard-copy-", THREADS));
        ExecutorCompletionService<Long> done = new ExecutorCompletionService<>(pool);
        List<SourceSnapshot> snapshots = new ArrayList<>();
        List<ShardSnapshot> lsns = new ArrayList<>();
        int submitted = 0;
        try {
            for (Shard shard : SourceShards.holding(source, table)) {
                SourceSnapshot snapshot = snapshot(shard, task, table, listener, rows, bytes);
                snapshots.add(snapshot);
                lsns.add(new ShardSnapshot(shard.index(), snapshot.lsn()));
                List<RangeCopy.Range> ranges = ranges(shard, table, parallelism);
                LOG.info("copying {} from {} at snapshot {} (slot {}, LSN {}) in {} range(s)", table, shard.describe(),
                        snapshot.snapshotId(), snapshot.slot(), snapshot.lsn(), ranges.size());
                for (RangeCopy.Range range : ranges) {
                    done.submit(() -> {
                        permits.acquire();
                        try {
                            return rangeCopy.copy(shard, snapshot.snapshotId(), range);
                        } finally {
                            permits.release();
                        }
                    });
                    submitted++;
                }
            }
            long written = 0;
            long lastReport = System.nanoTime();
            listener.ranges(table, 0, submitted);
            listener.progress(table, 0, 0);
            for (int finished = 0; finished < submitted; ) {
                Future<Long> f = done.poll(250, TimeUnit.MILLISECONDS);
                if (f != null) {
                    written += f.get();
                    finished++;
                }
                if (System.nanoTime() - lastReport > 1_000_000_000L) {
                    listener.ranges(table, finished, submitted);
                    listener.progress(table, rows.sum(), bytes.sum());
                    lastReport = System.nanoTime();
                }
            }
            listener.ranges(table, submitted, submitted);
            listener.progress(table, rows.sum(), bytes.sum());
            long millis = (System.nanoTime() - started) / 1_000_000;
            LOG.info("copied {}: {} rows, {} bytes in {} ms", table, written, bytes.sum(), millis);
            return new TableCopyResult(table, written, bytes.sum(), millis, List.copyOf(lsns));
        } catch (ExecutionException e) {
            scope.abortAll();
            throw rethrow(table, e.getCause());
        } catch (InterruptedException e) {
            scope.abortAll();
            Thread.currentThread().interrupt();
            throw new IOException("copy of " + table + " interrupted", e);
        } catch (SQLException | RuntimeException | Error e) {
            scope.abortAll();
            throw e;
        } finally {
            pool.shutdownNow();
            for (SourceSnapshot s : snapshots) {
                try {
                    s.close();
                } catch (SQLException e) {
                    LOG.warn("closing the snapshot connection of {}: {}", table, e.getMessage());
                }
            }
        }
    }

    /**
     * The copier of one table's ranges, after checking the table's columns on the source.
     * @param scope where the copy's connections come from; its abort stops every stream of the copy
     */
    RangeCopy rangeCopy(TaskRef task, TableName table, LongAdder rows, LongAdder bytes, CopyScope scope)
            throws SQLException {
        Topology topology = Topology.of(config);
        Cluster source = topology.cluster(task.source());
        Cluster destination = topology.cluster(task.destination());
        ShardFunction shardFunction = destination.shardFunction(table).orElse(null);
        List<Column> columns = connections.with(source.shard(0), c -> Catalog.storedColumns(c, table));
        if (columns.isEmpty()) {
            throw new NotRetryableException("table " + table + " does not exist on source " + source.shard(0).describe()
                    + "; check the publication '" + task.publication() + "'");
        }
        int keyField = -1;
        if (shardFunction != null) {
            ShardedTable sharded = destination.shardedTable(table).orElseThrow();
            keyField = columns.stream().map(Column::name).toList().indexOf(sharded.column());
            if (keyField < 0) {
                throw new NotRetryableException("table " + table + " on source has no stored column \"" + sharded.column()
                        + "\"; fix column in its [[sharded_tables]] entry");
            }
        }
        List<Integer> arrayFields = new ArrayList<>();
        List<String> arrayElements = new ArrayList<>();
        for (int i = 0; i < columns.size(); i++) {
            if (columns.get(i).arrayElement() != null) {
                arrayFields.add(i);
                arrayElements.add(columns.get(i).arrayElement());
            }
        }
        return new RangeCopy(scope, table, Catalog.columnList(columns), columns.size(), keyField,
                arrayFields, arrayElements, shardFunction, destination.shards(), rows, bytes);
    }

    /**
     * Creates the snapshot on a thread of its own while this one keeps reporting progress: creating
     * a logical slot waits for the transactions already running on the source to end, which may take
     * longer than a heartbeat timeout. If the caller is cancelled meanwhile, the snapshot is closed
     * (and its temporary slot dropped) as soon as it exists.
     */
    SourceSnapshot snapshot(Shard shard, TaskRef task, TableName table, CopyListener listener, LongAdder rows,
                                    LongAdder bytes) throws SQLException, InterruptedException {
        CompletableFuture<SourceSnapshot> pending = CompletableFuture.supplyAsync(() -> {
            try {
                return SourceSnapshot.create(connector, shard, task.objectPrefix());
            } catch (SQLException e) {
                throw new CompletionException(e);
            }
        }, r -> TaskLogContext.daemonThreads("pgreshard-snapshot-", THREADS).newThread(r).start());
        while (true) {
            try {
                return pending.get(1, TimeUnit.SECONDS);
            } catch (TimeoutException e) {
                try {
                    listener.progress(table, rows.sum(), bytes.sum());
                } catch (RuntimeException | Error stop) {
                    pending.thenAccept(TableCopier::closeQuietly);
                    throw stop;
                }
            } catch (InterruptedException e) {
                pending.thenAccept(TableCopier::closeQuietly);
                throw e;
            } catch (ExecutionException e) {
                Throwable cause = e.getCause();
                if (cause instanceof SQLException sql) {
                    throw sql;
                }
                if (cause instanceof RuntimeException re) {
                    throw re;
                }
                throw new SQLException("creating the snapshot of " + table + " on " + shard.describe() + " failed", cause);
            }
        }
    }

    private static void closeQuietly(SourceSnapshot snapshot) {
        try {
            snapshot.close();
        } catch (SQLException ignored) {
            // the session is gone either way, and its temporary slot with it
        }
    }

    /** Checks every destination shard has the table; empties it on a retry, refuses rows otherwise. */
    void prepareDestinations(Cluster destination, TableName table, boolean retry) throws SQLException {
        for (Shard shard : destination.shards()) {
            connections.with(shard, c -> {
                if (!Catalog.tableExists(c, table)) {
                    throw new NotRetryableException("table " + table + " does not exist on destination " + shard.describe()
                            + "; run schema-sync (phase pre) first");
                }
                if (retry) {
                    try (Statement s = c.createStatement()) {
                        s.execute("TRUNCATE " + table.quoted());
                    }
                    LOG.info("retry: emptied {} on {} before recopying it", table, shard.describe());
                } else if (Catalog.hasRows(c, table)) {
                    throw new NotRetryableException("table " + table + " already has rows on destination "
                            + shard.describe() + "; empty it (TRUNCATE " + table.quoted() + ") or choose an empty destination");
                }
                return null;
            });
        }
    }

    /** One range when the table is small; else up to {@code parallelism} block ranges of about equal size. */
    private List<RangeCopy.Range> ranges(Shard shard, TableName table, int parallelism) throws SQLException {
        long threshold = CopySettings.splitThresholdBytes(config);
        long[] sizes = connections.with(shard, c -> {
            try (PreparedStatement ps = c.prepareStatement(
                    "SELECT pg_relation_size(to_regclass(?)), current_setting('block_size')::bigint")) {
                ps.setString(1, table.quoted());
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    return new long[] {rs.getLong(1), rs.getLong(2)};
                }
            }
        });
        long size = sizes[0];
        long blockSize = sizes[1];
        // the file size is read after the snapshot was taken, so it covers every block the snapshot sees
        int count = (int) Math.min(parallelism, (size + threshold - 1) / threshold);
        if (count <= 1) {
            return List.of(RangeCopy.Range.WHOLE);
        }
        long blocks = size / blockSize;
        List<RangeCopy.Range> ranges = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            long from = i == 0 ? -1 : blocks * i / count;
            long to = i == count - 1 ? -1 : blocks * (i + 1) / count;
            ranges.add(new RangeCopy.Range(from, to));
        }
        return ranges;
    }

    /**
     * Runs {@code work} as a copy in progress of this copier (its connections are kept for reuse meanwhile),
     * with a scope of its own whose abort stops every stream the work started.
     */
    <T, X extends Exception> T inScope(String what, ScopedWork<T, X> work) throws SQLException, IOException, X {
        connections.enter();
        try {
            return work.run(new CopyScope(connections, what));
        } finally {
            connections.leave();
        }
    }

    /**
     * Keeps the connections handed back to this copier (and those {@link #adopt adopted}) until the result is
     * closed, also between copies: a command that checks and then copies several tables (data-sync) opens
     * each connection once. Without it they are kept only while a copy runs.
     */
    public Kept keepConnections() {
        connections.enter();
        return connections::leave;
    }

    /** {@link #keepConnections}' hold; closing it closes the idle connections unless a copy still runs. */
    public interface Kept extends AutoCloseable {
        @Override
        void close();
    }

    /**
     * Takes over an idle ordinary connection to {@code shard} opened by someone else (data-sync's preflight)
     * for the copies to reuse; kept while {@link #keepConnections} holds, closed otherwise.
     */
    public void adopt(Shard shard, Connection c) {
        connections.give(shard, c);
    }

    /** The connections this copier reuses (tests). */
    CopyConnections connections() {
        return connections;
    }

    /** Work in a copy scope; {@code X}: what else it may throw (a split range's wait, InterruptedException). */
    interface ScopedWork<T, X extends Exception> {
        T run(CopyScope scope) throws SQLException, IOException, X;
    }

    static SQLException rethrow(TableName table, Throwable cause) throws IOException {
        if (cause instanceof SQLException e) {
            String state = e.getSQLState() == null ? "" : e.getSQLState();
            if (state.startsWith("22") || state.startsWith("23") || state.startsWith("42")) {
                throw new NotRetryableException("copy of " + table + " failed: " + e.getMessage().replace('\n', ' ')
                        + "; the destination table must have the source's column types (run schema-sync) and the "
                        + "source shards must not hold the same key twice", e);
            }
            return e;
        }
        if (cause instanceof IOException e) {
            throw e;
        }
        if (cause instanceof RuntimeException e) {
            throw e;
        }
        if (cause instanceof Error err) {
            throw err;
        }
        throw new IOException(cause);
    }
}
