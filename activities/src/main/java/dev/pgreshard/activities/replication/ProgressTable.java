package dev.pgreshard.activities.replication;

import dev.pgreshard.core.pg.Lsn;
import dev.pgreshard.workflows.replication.Direction;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.sql.Timestamp;

/**
 * {@code pgreshard.replication_progress} on every shard a stream writes to: per (task, direction,
 * source shard) the commit LSN of the last source transaction applied there. It is written in the
 * same transaction as the changes, so it is exactly as durable as they are; that is what makes a
 * restart resume without losing or repeating a change.
 */
public final class ProgressTable {
    public static final String TABLE = "pgreshard.replication_progress";

    private static final String UPSERT = "INSERT INTO " + TABLE
            + " (task_id, direction, source_shard, commit_lsn, end_lsn, commit_time, updated_at)"
            + " VALUES (?, ?, ?, ?::pg_lsn, ?::pg_lsn, ?, now())"
            + " ON CONFLICT (task_id, direction, source_shard) DO UPDATE SET commit_lsn = excluded.commit_lsn,"
            + " end_lsn = excluded.end_lsn, commit_time = excluded.commit_time, updated_at = excluded.updated_at";

    private ProgressTable() {
    }

    /** The last applied transaction of one source shard on one destination shard. */
    public record Progress(Lsn commitLsn, Lsn endLsn, long commitEpochMs) {
        public static final Progress NONE = new Progress(Lsn.INVALID, Lsn.INVALID, 0);
    }

    /** Creates the schema and table if missing (autocommit connection). */
    public static void ensure(Connection c) throws SQLException {
        try (Statement s = c.createStatement()) {
            s.execute("CREATE SCHEMA IF NOT EXISTS pgreshard");
            s.execute("CREATE TABLE IF NOT EXISTS " + TABLE + " (task_id text NOT NULL, direction text NOT NULL,"
                    + " source_shard int NOT NULL, commit_lsn pg_lsn NOT NULL, end_lsn pg_lsn NOT NULL,"
                    + " commit_time timestamptz, updated_at timestamptz NOT NULL DEFAULT now(),"
                    + " PRIMARY KEY (task_id, direction, source_shard))");
        } catch (SQLException e) {
            // two streams creating it at once (reverse: every destination shard writes into the one source):
            // the loser sees a catalog unique violation, or "schema/relation/type already exists"
            if (!List.of("23505", "42P06", "42P07", "42710").contains(e.getSQLState())) {
                throw e;
            }
        }
    }

    /** The stored progress, or {@link Progress#NONE}; missing table = none. */
    public static Progress read(Connection c, String taskId, Direction direction, int sourceShard) throws SQLException {
        if (!exists(c)) {
            return Progress.NONE;
        }
        try (PreparedStatement ps = c.prepareStatement("SELECT commit_lsn::text, end_lsn::text, commit_time FROM " + TABLE
                + " WHERE task_id = ? AND direction = ? AND source_shard = ?")) {
            ps.setString(1, taskId);
            ps.setString(2, direction.name());
            ps.setInt(3, sourceShard);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    return Progress.NONE;
                }
                Timestamp t = rs.getTimestamp(3);
                return new Progress(Lsn.parse(rs.getString(1)), Lsn.parse(rs.getString(2)), t == null ? 0 : t.getTime());
            }
        }
    }

    /**
     * What {@link #readApplied} answers: a stream's applied end position (invalid when none) and the server's
     * WAL insert position (invalid when the table does not exist yet).
     */
    public record Applied(Lsn endLsn, Lsn walInsert) {
    }

    /**
     * In one round trip: how far {@code sourceShard}'s stream has applied on this server ({@link Lsn#INVALID}
     * when no row or no table yet) and the server's WAL insert position read in the same statement — the
     * cutover's drain polls this, where a missing-table check first ({@link #read}) would cost the pause a
     * second round trip.
     */
    public static Applied readApplied(Connection c, String taskId, Direction direction, int sourceShard) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT (SELECT end_lsn::text FROM " + TABLE
                + " WHERE task_id = ? AND direction = ? AND source_shard = ?), pg_catalog.pg_current_wal_insert_lsn()::text")) {
            ps.setString(1, taskId);
            ps.setString(2, direction.name());
            ps.setInt(3, sourceShard);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                String applied = rs.getString(1);
                return new Applied(applied == null ? Lsn.INVALID : Lsn.parse(applied), Lsn.parse(rs.getString(2)));
            }
        } catch (SQLException e) {
            if ("42P01".equals(e.getSQLState())) {
                return new Applied(Lsn.INVALID, Lsn.INVALID); // no table yet: nothing applied (and no drain completes on it)
            }
            throw e;
        }
    }

    /** Deletes a stream's rows (when its slots are dropped). */
    public static void delete(Connection c, String taskId, Direction direction) throws SQLException {
        if (!exists(c)) {
            return;
        }
        try (PreparedStatement ps = c.prepareStatement("DELETE FROM " + TABLE + " WHERE task_id = ? AND direction = ?")) {
            ps.setString(1, taskId);
            ps.setString(2, direction.name());
            ps.executeUpdate();
        }
    }

    /**
     * Prepares an upsert of {@code rows} progress rows that make a stream skip everything committed up
     * to a position (the reverse stream's start, written by a cutover); bind each with
     * {@link #bindSkipUpTo}. A row never moves back: a position already past it stays.
     */
    public static PreparedStatement prepareSkipUpTo(Connection c, int rows) throws SQLException {
        StringBuilder sql = new StringBuilder("INSERT INTO " + TABLE
                + " AS p (task_id, direction, source_shard, commit_lsn, end_lsn, commit_time, updated_at) VALUES ");
        for (int i = 0; i < rows; i++) {
            sql.append(i == 0 ? "" : ", ").append("(?, ?, ?, ?::pg_lsn, ?::pg_lsn, NULL, now())");
        }
        sql.append(" ON CONFLICT (task_id, direction, source_shard) DO UPDATE SET"
                + " commit_lsn = greatest(p.commit_lsn, excluded.commit_lsn), end_lsn = greatest(p.end_lsn, excluded.end_lsn),"
                + " updated_at = excluded.updated_at");
        return c.prepareStatement(sql.toString());
    }

    /** Binds row {@code row} of {@link #prepareSkipUpTo}: skip every transaction of {@code sourceShard} committed at or before {@code upTo}. */
    public static void bindSkipUpTo(PreparedStatement ps, int row, String taskId, Direction direction, int sourceShard, Lsn upTo)
            throws SQLException {
        int base = row * 5;
        ps.setString(base + 1, taskId);
        ps.setString(base + 2, direction.name());
        ps.setInt(base + 3, sourceShard);
        ps.setString(base + 4, upTo.toString());
        ps.setString(base + 5, upTo.toString());
    }

    /** Prepares the upsert on {@code c}; bind with {@link #bind}. */
    static PreparedStatement prepareUpsert(Connection c) throws SQLException {
        return c.prepareStatement(UPSERT);
    }

    static void bind(PreparedStatement ps, String taskId, Direction direction, int sourceShard, Progress p)
            throws SQLException {
        ps.setString(1, taskId);
        ps.setString(2, direction.name());
        ps.setInt(3, sourceShard);
        ps.setString(4, p.commitLsn().toString());
        ps.setString(5, p.endLsn().toString());
        ps.setTimestamp(6, p.commitEpochMs() == 0 ? null : new Timestamp(p.commitEpochMs()));
    }

    private static boolean exists(Connection c) throws SQLException {
        try (Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT to_regclass('" + TABLE + "') IS NOT NULL")) {
            rs.next();
            return rs.getBoolean(1);
        }
    }
}
