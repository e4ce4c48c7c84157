package dev.pgreshard.activities.copy;

import dev.pgreshard.core.sharding.ShardFunction;
import dev.pgreshard.core.topology.Shard;
import dev.pgreshard.core.topology.TableName;
import org.postgresql.PGConnection;
import org.postgresql.copy.CopyManager;
import org.postgresql.copy.CopyOut;
import org.postgresql.copy.PGCopyOutputStream;

import java.io.IOException;
import dev.pgreshard.activities.catalog.NotRetryableException;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.concurrent.atomic.LongAdder;

/**
 * One unit of copy work: a block range of one table on one source shard, read at the table's
 * snapshot with {@code COPY (SELECT ...) TO STDOUT (FORMAT binary)} and forwarded tuple by tuple,
 * undecoded except for the shard key, into {@code COPY ... FROM STDIN (FORMAT binary)} on the
 * destination shard the key hashes to (or on every shard for an omnisharded table).
 *
 * <p>Ranges are ctid block ranges: every table has them whatever its key, and PostgreSQL 14+ reads
 * them with a TID Range Scan, so N ranges cost one pass over the table in total.
 */
final class RangeCopy {
    /** Block range [fromBlock, toBlock); -1 = open end. Both -1: the whole table. */
    record Range(long fromBlock, long toBlock) {
        static final Range WHOLE = new Range(-1, -1);

        String where() {
            if (fromBlock < 0 && toBlock < 0) {
                return "";
            }
            StringBuilder b = new StringBuilder(" WHERE ");
            if (fromBlock >= 0) {
                b.append("ctid >= '(").append(fromBlock).append(",0)'::tid");
            }
            if (toBlock >= 0) {
                b.append(fromBlock >= 0 ? " AND " : "").append("ctid < '(").append(toBlock).append(",0)'::tid");
            }
            return b.toString();
        }
    }

    private static final int WRITE_BUFFER = 1 << 16;
    private final CopyScope scope;
    private final TableName table;
    private final String columnList;
    private final int fieldCount;
    private final int keyField;
    private final List<Integer> arrayFields;
    private final List<String> arrayElements;
    private final ShardFunction shardFunction;
    private final List<Shard> destinations;
    private final LongAdder rows;
    private final LongAdder bytes;

    /**
     * @param keyField      index of the shard-key field, -1 for an omnisharded table
     * @param arrayFields   fields holding arrays of user-defined types, whose element OID is rewritten
     * @param arrayElements their element types (quoted qualified names), looked up on each destination
     * @param shardFunction null for an omnisharded table (every tuple to every shard)
     * @param scope         where the connections come from and go back to; its abort stops this copy
     */
    RangeCopy(CopyScope scope, TableName table, String columnList, int fieldCount, int keyField,
              List<Integer> arrayFields, List<String> arrayElements,
              ShardFunction shardFunction, List<Shard> destinations, LongAdder rows, LongAdder bytes) {
        this.scope = scope;
        this.table = table;
        this.columnList = columnList;
        this.fieldCount = fieldCount;
        this.keyField = keyField;
        this.arrayFields = arrayFields;
        this.arrayElements = arrayElements;
        this.shardFunction = shardFunction;
        this.destinations = destinations;
        this.rows = rows;
        this.bytes = bytes;
    }

    /** The OIDs the destination gives the array element types. */
    private int[] elementOids(Connection c, Shard shard) throws SQLException {
        int[] oids = new int[arrayElements.size()];
        for (int k = 0; k < oids.length; k++) {
            try (PreparedStatement ps = c.prepareStatement("SELECT to_regtype(?)::oid")) {
                ps.setString(1, arrayElements.get(k));
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    if (rs.getObject(1) == null) {
                        throw new NotRetryableException("type " + arrayElements.get(k) + " (used by an array column of "
                                + table + ") does not exist on destination " + shard.describe() + "; run schema-sync");
                    }
                    oids[k] = (int) rs.getLong(1);
                }
            }
        }
        return oids;
    }

    /**
     * Binary array layout: int32 ndim, int32 has-nulls flag, int32 element type OID, then dimensions
     * and elements. The OID is the source database's; array_recv on the destination insists on its own.
     */
    private static void patchElementOids(byte[] buf, int[] fOff, int[] fLen, int firstSlot, int[] oids) {
        for (int k = 0; k < oids.length; k++) {
            int len = fLen[firstSlot + k];
            if (len >= 12) {
                int at = fOff[firstSlot + k] + 8;
                int oid = oids[k];
                buf[at] = (byte) (oid >>> 24);
                buf[at + 1] = (byte) (oid >>> 16);
                buf[at + 2] = (byte) (oid >>> 8);
                buf[at + 3] = (byte) oid;
            }
        }
    }

    /**
     * Foreign keys that an earlier run's post-data left on the destination (a re-run after a rollback)
     * would reject child rows copied before their parents: like pg_restore --disable-triggers, the
     * copy does not fire FK triggers (the snapshot is consistent, so they hold when it ends).
     * Needs superuser; without it tables copy in any order only without such keys.
     */
    private static void replicaRole(Connection c, Shard shard) {
        try (Statement s = c.createStatement()) {
            s.execute("SET session_replication_role = replica");
        } catch (SQLException e) {
            org.slf4j.LoggerFactory.getLogger(RangeCopy.class).debug("{}: cannot SET session_replication_role = replica "
                    + "({}); foreign keys already on the destination will be checked during the copy", shard.describe(),
                    e.getMessage());
        }
    }

    /**
     * Back to the default role before the connection is reused: the copier's other work on it (a retry's TRUNCATE)
     * must fire the triggers it would on a new connection. False when that failed (the connection is then dropped).
     */
    private static boolean defaultRole(Connection c) {
        try (Statement s = c.createStatement()) {
            s.execute("RESET session_replication_role");
            return true;
        } catch (SQLException e) {
            return false;
        }
    }

    /** Copies the range; returns the rows written (over all destination shards). */
    long copy(Shard source, String snapshotId, Range range) throws SQLException, IOException {
        return copy(source, snapshotId, range.where());
    }

    /**
     * Copies the rows matching {@code where} (empty, or " WHERE ..." over the source table's columns).
     * A snapshot that cannot be imported (its exporter's session ended) raises {@link SnapshotGoneException}.
     */
    long copy(Shard source, String snapshotId, String where) throws SQLException, IOException {
        int n = destinations.size();
        Connection[] dst = new Connection[n];
        PGCopyOutputStream[] out = new PGCopyOutputStream[n];
        Connection src = null;
        boolean clean = false;
        try {
            src = scope.take(source);
            try (Statement s = src.createStatement()) {
                s.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
                try {
                    s.execute("SET TRANSACTION SNAPSHOT '" + snapshotId + "'");
                } catch (SQLException e) {
                    // 22023 invalid_parameter_value: "invalid snapshot identifier" once the exporter is gone
                    if ("22023".equals(e.getSQLState())) {
                        throw new SnapshotGoneException("snapshot " + snapshotId + " of " + table + " on "
                                + source.describe() + " can no longer be imported: " + e.getMessage(), e);
                    }
                    throw e;
                }
            }
            String into = "COPY " + table.quoted() + " (" + columnList + ") FROM STDIN (FORMAT binary)";
            int[][] elementOids = new int[n][];
            for (int i = 0; i < n; i++) {
                dst[i] = scope.take(destinations.get(i));
                replicaRole(dst[i], destinations.get(i));
                elementOids[i] = elementOids(dst[i], destinations.get(i));
                out[i] = new PGCopyOutputStream(dst[i].unwrap(PGConnection.class), into, WRITE_BUFFER);
                out[i].write(BinaryCopyParser.HEADER);
            }
            // watched fields: the shard key first (if any), then the arrays to patch
            int keySlots = keyField >= 0 ? 1 : 0;
            int[] watched = new int[keySlots + arrayFields.size()];
            if (keyField >= 0) {
                watched[0] = keyField;
            }
            for (int k = 0; k < arrayFields.size(); k++) {
                watched[keySlots + k] = arrayFields.get(k);
            }
            boolean patch = !arrayFields.isEmpty();
            // rows written since the last flush into the shared counter (read by the progress loop)
            long[] pendingRows = new long[1];
            BinaryCopyParser parser = new BinaryCopyParser(fieldCount, watched, (buf, off, len, fOff, fLen) -> {
                if (shardFunction == null) {
                    for (int i = 0; i < n; i++) {
                        if (patch) {
                            patchElementOids(buf, fOff, fLen, keySlots, elementOids[i]);
                        }
                        out[i].write(buf, off, len);
                    }
                    pendingRows[0] += n;
                } else {
                    int i = shardFunction.shardOfBinary(buf, fOff[0], fLen[0]);
                    if (patch) {
                        patchElementOids(buf, fOff, fLen, keySlots, elementOids[i]);
                    }
                    out[i].write(buf, off, len);
                    pendingRows[0]++;
                }
            });
            CopyManager manager = src.unwrap(PGConnection.class).getCopyAPI();
            CopyOut copyOut = manager.copyOut("COPY (SELECT " + columnList + " FROM " + table.quoted() + where
                    + ") TO STDOUT (FORMAT binary)");
            try (ChunkPipe pipe = new ChunkPipe(copyOut, Thread.currentThread().getName() + "-read")) {
                byte[] chunk;
                long pendingBytes = 0;
                while ((chunk = pipe.next()) != null) {
                    parser.feed(chunk);
                    pendingBytes += chunk.length;
                    if (pendingBytes >= 1 << 20) {
                        bytes.add(pendingBytes);
                        rows.add(pendingRows[0]);
                        pendingBytes = 0;
                        pendingRows[0] = 0;
                    }
                }
                bytes.add(pendingBytes);
                rows.add(pendingRows[0]);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("copy of " + table + " interrupted", e);
            } catch (SQLException | IOException | RuntimeException e) {
                // the reading thread may sit in a socket read holding the connection's lock: abort, do not close
                src.abort(Runnable::run);
                throw e;
            }
            if (!parser.finished()) {
                throw new IOException("the COPY stream of " + table + " from " + source.describe() + " ended early");
            }
            long written = 0;
            for (PGCopyOutputStream o : out) {
                o.write(BinaryCopyParser.TRAILER);
                written += o.endCopy();
            }
            try (Statement s = src.createStatement()) {
                s.execute("COMMIT");
            }
            clean = true;
            return written;
        } finally {
            // connections of a range that ended cleanly serve the next one; after a failure they are closed
            // (an open COPY or transaction ends with them, nothing of it commits)
            if (clean) {
                scope.giveBack(source, src);
                for (int i = 0; i < n; i++) {
                    if (defaultRole(dst[i])) {
                        scope.giveBack(destinations.get(i), dst[i]);
                    } else {
                        scope.drop(dst[i]);
                    }
                }
            } else {
                scope.drop(src);
                for (Connection c : dst) {
                    scope.drop(c);
                }
            }
        }
    }
}
