package dev.pgreshard.activities.replication;

import dev.pgreshard.activities.support.TaskLogContext;
import dev.pgreshard.activities.replication.ProgressTable.Progress;
import dev.pgreshard.core.pg.PgConnector;
import dev.pgreshard.core.topology.Shard;
import dev.pgreshard.workflows.replication.Direction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Applies one source stream's changes to one destination shard, inside a long destination
 * transaction that spans many source transactions. The stream thread queues changes (a
 * {@link SqlTemplate} and its values) into chunks; this shard's own worker thread sends each chunk
 * as one pipelined batch ({@link ParameterizedBatch}), so reading the source and writing every
 * shard overlap. All JDBC work on the connection happens on that worker thread, in submission
 * order; a failed chunk fails every
 * later task, and the failure reaches the stream at its next wait. {@link #commit} writes the
 * stream's progress row in the same transaction as the changes.
 */
final class ShardApplier implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ShardApplier.class);
    private static final int CHUNK_STATEMENTS = 2000;
    private static final long CHUNK_CHARS = 8L << 20;
    /** Chunks queued or running per shard before the stream thread waits (bounds memory). */
    private static final int MAX_IN_FLIGHT = 3;

    private final Shard shard;
    private final String taskId;
    private final Direction direction;
    private final int sourceShard;
    private final Connection conn;
    private final ExecutorService worker;
    private final PreparedStatement upsertProgress;
    /** Worker thread only. */
    private final ParameterizedBatch batch;
    private final Deque<Future<?>> inFlight = new ArrayDeque<>();
    /** The values of each change queued, and {@link #chunkTemplates} its statement. */
    private List<List<String>> chunk = new ArrayList<>();
    private List<SqlTemplate> chunkTemplates = new ArrayList<>();
    private BitSet chunkCountsRows = new BitSet();
    private long chunkChars;
    private boolean dirty;
    private volatile Progress durable;
    /** The first failure on this connection: every later task fails with its cause, never a vaguer one. */
    private volatile ApplyException firstFailure;
    private volatile long missedRows;

    ShardApplier(PgConnector connector, Shard shard, String taskId, Direction direction, int sourceShard) throws SQLException {
        this.shard = shard;
        this.taskId = taskId;
        this.direction = direction;
        this.sourceShard = sourceShard;
        this.conn = connector.open(shard);
        this.worker = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(TaskLogContext.propagating(r), "pgreshard-apply-" + shard.cluster() + "-" + shard.index() + "-from-" + sourceShard);
            t.setDaemon(true);
            return t;
        });
        try {
            ProgressTable.ensure(conn);
            replicaRole();
            try (Statement s = conn.createStatement()) {
                // the slot is confirmed right after commit returns: the commit must be durable by then
                s.execute("SET synchronous_commit = on");
                // statements run once (DELETE ... RETURNING) carry values as standard string literals
                s.execute("SET standard_conforming_strings = on");
                // every execution of a shape has the same plan (key lookups): skip the five custom plans
                s.execute("SET plan_cache_mode = force_generic_plan");
            }
            this.durable = ProgressTable.read(conn, taskId, direction, sourceShard);
            conn.setAutoCommit(false);
            this.upsertProgress = ProgressTable.prepareUpsert(conn);
            this.batch = new ParameterizedBatch(conn);
        } catch (SQLException | RuntimeException e) {
            worker.shutdownNow();
            closeQuietly();
            throw e;
        }
    }

    /**
     * Like PostgreSQL's own apply worker: triggers and FK checks do not fire for replicated rows
     * (they fired on the source). Needs superuser; without it the stream still works, in order.
     */
    private void replicaRole() {
        try (Statement s = conn.createStatement()) {
            s.execute("SET session_replication_role = replica");
        } catch (SQLException e) {
            log.warn("{}: cannot SET session_replication_role = replica ({}); triggers and foreign keys will fire "
                    + "for replicated rows", shard.describe(), e.getMessage());
        }
    }

    Shard shard() {
        return shard;
    }

    /** What this shard has durably applied from the source shard. */
    Progress durable() {
        return durable;
    }

    long missedRows() {
        return missedRows;
    }

    /** Queues one change ({@code template} with {@code values}, not changed afterwards); sent with its chunk. */
    void execute(SqlTemplate template, List<String> values, boolean countsRows) throws SQLException {
        chunkCountsRows.set(chunk.size(), countsRows);
        chunk.add(values);
        chunkTemplates.add(template);
        for (String v : values) {
            chunkChars += v == null ? 4 : v.length() + 4;
        }
        dirty = true;
        if (chunk.size() >= CHUNK_STATEMENTS || chunkChars >= CHUNK_CHARS) {
            submitChunk();
        }
    }

    /** Runs a DELETE ... RETURNING after everything queued; returns the returned row's text values (null: no row). */
    List<String> deleteReturning(SqlTemplate template, String sql, int returnedColumns) throws SQLException {
        dirty = true;
        return sync(() -> {
            try (Statement s = conn.createStatement(); ResultSet rs = failing(template.table().toString(), sql,
                    () -> s.executeQuery(sql))) {
                if (!rs.next()) {
                    return null;
                }
                List<String> out = new ArrayList<>(returnedColumns);
                for (int i = 1; i <= returnedColumns; i++) {
                    out.add(rs.getString(i));
                }
                return out;
            }
        });
    }

    /** Runs a statement without parameters (TRUNCATE) after everything queued. */
    void executeNow(String table, String sql) throws SQLException {
        dirty = true;
        sync(() -> {
            try (Statement s = conn.createStatement()) {
                failing(table, sql, () -> s.execute(sql));
            }
            return null;
        });
    }

    /** Runs a read-only query inside the current transaction (schema checks), after everything queued. */
    <T> T query(String sql, List<String> values, ResultReader<T> reader) throws SQLException {
        return sync(() -> {
            try (PreparedStatement ps = conn.prepareStatement(sql)) {
                for (int i = 0; i < values.size(); i++) {
                    ps.setString(i + 1, values.get(i));
                }
                try (ResultSet rs = ps.executeQuery()) {
                    return reader.read(rs);
                }
            }
        });
    }

    interface ResultReader<T> {
        T read(ResultSet rs) throws SQLException;
    }

    /**
     * Queues the commit of everything queued, together with {@code progress} (never moving it
     * backwards). A shard that received nothing and whose progress would not move is left alone.
     * The returned future completes when the commit is durable.
     */
    Future<?> commit(Progress progress) throws SQLException {
        boolean advances = progress.commitLsn().isAfter(durable.commitLsn());
        if (!dirty && !advances) {
            return CompletableFuture.completedFuture(null);
        }
        dirty = false;
        submitChunk();
        return submit(() -> {
            Progress next = progress.commitLsn().isAfter(durable.commitLsn()) ? progress : durable;
            ProgressTable.bind(upsertProgress, taskId, direction, sourceShard, next);
            upsertProgress.executeUpdate();
            conn.commit();
            durable = next;
            return null;
        });
    }

    /** Waits for a future of this shard's worker, turning its failure into an SQLException. */
    static void await(Future<?> f) throws SQLException {
        try {
            f.get();
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof SQLException se) {
                throw se;
            }
            if (cause instanceof RuntimeException re) {
                throw re;
            }
            throw new IllegalStateException(cause);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new SQLException("interrupted while waiting for a destination shard", e);
        }
    }

    /** Drops everything queued and rolls the open destination transaction back. */
    void rollback() {
        chunk = new ArrayList<>();
        chunkTemplates = new ArrayList<>();
        chunkCountsRows = new BitSet();
        chunkChars = 0;
        dirty = false;
        for (Future<?> f : inFlight) {
            f.cancel(false);
        }
        inFlight.clear();
        try {
            worker.submit(() -> {
                conn.rollback();
                return null;
            }).get();
        } catch (ExecutionException | java.util.concurrent.RejectedExecutionException e) {
            log.debug("rollback on {} failed: {}", shard.describe(), e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void submitChunk() throws SQLException {
        if (chunk.isEmpty()) {
            return;
        }
        List<List<String>> statements = chunk;
        List<SqlTemplate> templates = chunkTemplates;
        BitSet countsRows = chunkCountsRows;
        chunk = new ArrayList<>(statements.size());
        chunkTemplates = new ArrayList<>(statements.size());
        chunkCountsRows = new BitSet();
        chunkChars = 0;
        inFlight.add(submit(() -> {
            runChunk(statements, templates, countsRows);
            return null;
        }));
        while (inFlight.size() > MAX_IN_FLIGHT) {
            await(inFlight.removeFirst());
        }
    }

    /** Runs {@code task} on the worker after everything queued, and waits for it (and for them). */
    private <T> T sync(Callable<T> task) throws SQLException {
        submitChunk();
        Future<T> f = submit(task);
        while (!inFlight.isEmpty()) {
            await(inFlight.removeFirst());
        }
        await(f);
        try {
            return f.get();
        } catch (InterruptedException | ExecutionException e) {
            throw new IllegalStateException(e); // cannot happen: await returned normally
        }
    }

    /** Submits work for the connection; once any task failed, later ones fail without touching it. */
    private <T> Future<T> submit(Callable<T> task) {
        Future<T> f = worker.submit(() -> {
            ApplyException first = firstFailure;
            if (first != null) {
                throw first.again();
            }
            try {
                return task.call();
            } catch (ApplyException e) {
                firstFailure = e;
                throw e;
            } catch (SQLException e) {
                // the commit or the progress row: no change statement to name
                firstFailure = new ApplyException(shard.describe(), null, "committing on " + shard.describe()
                        + " failed: " + e.getMessage(), e);
                throw firstFailure;
            } catch (Exception e) {
                firstFailure = new ApplyException(shard.describe(), null, shard.describe() + ": " + e, e);
                throw e;
            }
        });
        trimCompleted();
        return f;
    }

    private void trimCompleted() {
        while (!inFlight.isEmpty() && inFlight.peekFirst().isDone() && !failedFuture(inFlight.peekFirst())) {
            inFlight.removeFirst();
        }
    }

    private static boolean failedFuture(Future<?> f) {
        try {
            f.get();
            return false;
        } catch (Exception e) {
            return true;
        }
    }

    private void runChunk(List<List<String>> statements, List<SqlTemplate> templates, BitSet countsRows)
            throws SQLException {
        int[] counts;
        try {
            counts = batch.run(templates, statements);
        } catch (ParameterizedBatch.EntryFailedException e) {
            // the server's own message (with its DETAIL and HINT), the statement and values it refused
            throw ApplyException.of(shard.describe(), templates.get(e.index), statements.get(e.index),
                    (SQLException) e.getCause());
        }
        for (int i = 0; i < counts.length; i++) {
            if (counts[i] == 0 && countsRows.get(i)) {
                missedRows++;
                if (missedRows <= 10 || missedRows % 1000 == 0) {
                    log.warn("{}: a replicated UPDATE/DELETE found no row ({} so far)", shard.describe(), missedRows);
                }
            }
        }
    }

    private interface SqlCall<T> {
        T call() throws SQLException;
    }

    /** Runs one statement, naming it, its table and this shard if it fails. */
    private <T> T failing(String table, String sql, SqlCall<T> call) throws SQLException {
        try {
            return call.call();
        } catch (SQLException e) {
            throw ApplyException.of(shard.describe(), table, sql, e);
        }
    }

    private void closeQuietly() {
        try {
            conn.close();
        } catch (SQLException ignored) {
            // closing after a failure; the original error is what matters
        }
    }

    @Override
    public void close() {
        rollback();
        worker.shutdownNow();
        closeQuietly();
    }
}
