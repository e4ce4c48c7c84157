package dev.pgreshard.activities.replication;

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
import java.sql.BatchUpdateException;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;

/**
 * Applies one source stream's changes to one destination shard, inside a long destination
 * transaction that spans many source transactions. Changes are rendered SQL ({@link SqlTemplate})
 * queued in one JDBC batch, which PgJDBC pipelines: a batch of mixed INSERT/UPDATE/DELETE costs one
 * round trip, in the source's order. {@link #commit} writes the stream's progress row in the same transaction.
 */
final class ShardApplier implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ShardApplier.class);
    private static final int MAX_BATCH = 5000;
    private static final long MAX_BATCH_CHARS = 16L << 20;

    private final Shard shard;
    private final String taskId;
    private final Direction direction;
    private final int sourceShard;
    private final Connection conn;
    private final PreparedStatement upsertProgress;
    private final Statement batch;
    private final BitSet batchCountsRows = new BitSet();
    /** Templates PREPAREd in this session (ids of {@link SqlTemplate}). */
    private final BitSet prepared = new BitSet();
    private int batchSize;
    private long batchChars;
    private Progress durable;
    private boolean dirty;
    private long missedRows;

    ShardApplier(PgConnector connector, Shard shard, String taskId, Direction direction, int sourceShard) throws SQLException {
        this.shard = shard;
        this.taskId = taskId;
        this.direction = direction;
        this.sourceShard = sourceShard;
        this.conn = connector.open(shard);
        try {
            ProgressTable.ensure(conn);
            replicaRole();
            try (Statement s = conn.createStatement()) {
                // the slot is confirmed right after commit returns: the commit must be durable by then
                s.execute("SET synchronous_commit = on");
                // values are rendered as standard string literals (SqlTemplate)
                s.execute("SET standard_conforming_strings = on");
                // every EXECUTE of a shape has the same plan (PK lookups): skip the five custom plans
                s.execute("SET plan_cache_mode = force_generic_plan");
            }
            this.durable = ProgressTable.read(conn, taskId, direction, sourceShard);
            conn.setAutoCommit(false);
            this.upsertProgress = ProgressTable.prepareUpsert(conn);
            this.batch = conn.createStatement();
            this.batch.setEscapeProcessing(false); // rendered SQL has no JDBC escapes; skip scanning for them
        } catch (SQLException | RuntimeException e) {
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

    Connection connection() {
        return conn;
    }

    /** What this shard has durably applied from the source shard. */
    Progress durable() {
        return durable;
    }

    long missedRows() {
        return missedRows;
    }

    /**
     * Queues one rendered change. Changes go out as one pipelined batch (one round trip) when the
     * batch is full, before anything that must run at once, and at commit.
     */
    void execute(SqlTemplate template, String executeSql, boolean countsRows) throws SQLException {
        if (!prepared.get(template.id())) {
            batch.addBatch(template.prepareSql());
            batchSize++;
            prepared.set(template.id());
        }
        batch.addBatch(executeSql);
        batchCountsRows.set(batchSize, countsRows);
        batchSize++;
        batchChars += executeSql.length();
        dirty = true;
        if (batchSize >= MAX_BATCH || batchChars >= MAX_BATCH_CHARS) {
            flushBatch();
        }
    }

    /** Runs a DELETE ... RETURNING now (after the pending batch) and returns the returned row's text values. */
    List<String> deleteReturning(String sql, int returnedColumns) throws SQLException {
        flushBatch();
        dirty = true;
        try (Statement s = conn.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            if (!rs.next()) {
                return null;
            }
            List<String> out = new ArrayList<>(returnedColumns);
            for (int i = 1; i <= returnedColumns; i++) {
                out.add(rs.getString(i));
            }
            return out;
        }
    }

    /** Runs a statement without parameters (TRUNCATE) after the pending batch. */
    void executeNow(String sql) throws SQLException {
        flushBatch();
        dirty = true;
        try (Statement s = conn.createStatement()) {
            s.execute(sql);
        }
    }

    /** Runs a read-only query inside the current transaction (schema checks). */
    <T> T query(String sql, List<String> values, ResultReader<T> reader) throws SQLException {
        flushBatch();
        try (PreparedStatement ps = conn.prepareStatement(sql)) {
            for (int i = 0; i < values.size(); i++) {
                ps.setString(i + 1, values.get(i));
            }
            try (ResultSet rs = ps.executeQuery()) {
                return reader.read(rs);
            }
        }
    }

    interface ResultReader<T> {
        T read(ResultSet rs) throws SQLException;
    }

    /**
     * Commits everything queued together with {@code progress} (never moving it backwards). A shard
     * that received nothing since its last commit and whose progress would not move is left alone.
     */
    void commit(Progress progress) throws SQLException {
        flushBatch();
        boolean advances = progress.commitLsn().isAfter(durable.commitLsn());
        if (!dirty && !advances) {
            return;
        }
        Progress next = advances ? progress : durable;
        ProgressTable.bind(upsertProgress, taskId, direction, sourceShard, next);
        upsertProgress.executeUpdate();
        conn.commit();
        durable = next;
        dirty = false;
    }

    void rollback() {
        try {
            batch.clearBatch();
            batchCountsRows.clear();
            batchSize = 0;
            batchChars = 0;
            conn.rollback();
            dirty = false;
        } catch (SQLException e) {
            log.debug("rollback on {} failed: {}", shard.describe(), e.getMessage());
        }
    }

    private void flushBatch() throws SQLException {
        if (batchSize == 0) {
            return;
        }
        int[] counts;
        try {
            counts = batch.executeBatch();
        } catch (BatchUpdateException e) {
            // PgJDBC's batch message names the statement; its cause carries the server's reason
            SQLException next = e.getNextException();
            throw new SQLException(shard.describe() + ": applying a replicated change failed: "
                    + (next != null ? next.getMessage() : e.getMessage()), e.getSQLState(), e);
        } finally {
            batchSize = 0;
            batchChars = 0;
        }
        for (int i = 0; i < counts.length; i++) {
            if (counts[i] == 0 && batchCountsRows.get(i)) {
                missedRows++;
                if (missedRows <= 10 || missedRows % 1000 == 0) {
                    log.warn("{}: a replicated UPDATE/DELETE found no row ({} so far)", shard.describe(), missedRows);
                }
            }
        }
        batchCountsRows.clear();
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
        closeQuietly();
    }
}
