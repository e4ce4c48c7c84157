package dev.pgreshard.activities.replication.pgoutput;

import dev.pgreshard.activities.replication.pgoutput.PgOutputMessage.Begin;
import dev.pgreshard.activities.replication.pgoutput.PgOutputMessage.Column;
import dev.pgreshard.activities.replication.pgoutput.PgOutputMessage.Commit;
import dev.pgreshard.activities.replication.pgoutput.PgOutputMessage.Delete;
import dev.pgreshard.activities.replication.pgoutput.PgOutputMessage.Insert;
import dev.pgreshard.activities.replication.pgoutput.PgOutputMessage.LogicalMessage;
import dev.pgreshard.activities.replication.pgoutput.PgOutputMessage.Origin;
import dev.pgreshard.activities.replication.pgoutput.PgOutputMessage.Relation;
import dev.pgreshard.activities.replication.pgoutput.PgOutputMessage.Truncate;
import dev.pgreshard.activities.replication.pgoutput.PgOutputMessage.Type;
import dev.pgreshard.activities.replication.pgoutput.PgOutputMessage.Update;
import dev.pgreshard.core.pg.Lsn;

import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Decodes pgoutput protocol version 1 (PostgreSQL 10+), one method per message type. Integers are
 * big-endian; {@code String} is NUL-terminated UTF-8; {@code TupleData} is described at
 * {@link #tupleData}. Timestamps are microseconds since 2000-01-01 UTC. Stateless and thread-safe.
 */
public final class PgOutputDecoder {
    /** Microseconds between 1970-01-01 and 2000-01-01 (PostgreSQL's epoch). */
    public static final long PG_EPOCH_OFFSET_MICROS = 946_684_800_000_000L;

    /** Decodes one message (the payload of one XLogData frame), from the buffer's position. */
    public PgOutputMessage decode(ByteBuffer buf) {
        try {
            PgOutputMessageType type = PgOutputMessageType.of(buf.get());
            return switch (type) {
                case BEGIN -> begin(buf);
                case COMMIT -> commit(buf);
                case ORIGIN -> origin(buf);
                case RELATION -> relation(buf);
                case TYPE -> type(buf);
                case INSERT -> insert(buf);
                case UPDATE -> update(buf);
                case DELETE -> delete(buf);
                case TRUNCATE -> truncate(buf);
                case MESSAGE -> message(buf);
            };
        } catch (BufferUnderflowException | IndexOutOfBoundsException e) {
            throw new PgOutputFormatException("truncated pgoutput message (" + buf.limit() + " bytes)");
        }
    }

    /** Epoch milliseconds of a pgoutput timestamp. */
    public static long toEpochMillis(long pgMicros) {
        return Math.floorDiv(pgMicros + PG_EPOCH_OFFSET_MICROS, 1000);
    }

    /**
     * <pre>
     * Byte1('B')
     * Int64  final LSN of the transaction (its commit record)
     * Int64  commit timestamp
     * Int32  xid
     * </pre>
     */
    Begin begin(ByteBuffer buf) {
        return new Begin(Lsn.of(buf.getLong()), buf.getLong(), buf.getInt());
    }

    /**
     * <pre>
     * Byte1('C')
     * Int8   flags (unused, 0)
     * Int64  LSN of the commit record
     * Int64  end LSN of the transaction (just past the commit record)
     * Int64  commit timestamp
     * </pre>
     */
    Commit commit(ByteBuffer buf) {
        return new Commit(buf.get(), Lsn.of(buf.getLong()), Lsn.of(buf.getLong()), buf.getLong());
    }

    /**
     * <pre>
     * Byte1('O')
     * Int64  commit LSN of the transaction on the origin server
     * String origin name
     * </pre>
     */
    Origin origin(ByteBuffer buf) {
        return new Origin(Lsn.of(buf.getLong()), string(buf));
    }

    /**
     * <pre>
     * Byte1('R')
     * Int32  relation OID
     * String namespace ("" for pg_catalog)
     * String relation name
     * Int8   replica identity setting (d, n, f, i — pg_class.relreplident)
     * Int16  number of columns, then per column:
     *   Int8   flags (1 = part of the replica identity key)
     *   String column name
     *   Int32  data type OID
     *   Int32  type modifier
     * </pre>
     */
    Relation relation(ByteBuffer buf) {
        int relationId = buf.getInt();
        String namespace = string(buf);
        String name = string(buf);
        char identity = (char) buf.get();
        int n = Short.toUnsignedInt(buf.getShort());
        List<Column> columns = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            boolean key = (buf.get() & 1) != 0;
            columns.add(new Column(key, string(buf), buf.getInt(), buf.getInt()));
        }
        return new Relation(relationId, namespace.isEmpty() ? "pg_catalog" : namespace, name, identity, List.copyOf(columns));
    }

    /**
     * <pre>
     * Byte1('Y')
     * Int32  data type OID
     * String namespace ("" for pg_catalog)
     * String type name
     * </pre>
     */
    Type type(ByteBuffer buf) {
        int oid = buf.getInt();
        String namespace = string(buf);
        return new Type(oid, namespace.isEmpty() ? "pg_catalog" : namespace, string(buf));
    }

    /**
     * <pre>
     * Byte1('I')
     * Int32  relation OID
     * Byte1('N')  new tuple follows
     * TupleData
     * </pre>
     */
    Insert insert(ByteBuffer buf) {
        int relationId = buf.getInt();
        expect(buf, 'N', "INSERT");
        return new Insert(relationId, tupleData(buf));
    }

    /**
     * <pre>
     * Byte1('U')
     * Int32  relation OID
     * optional: Byte1('K') + TupleData of the old key (the replica identity changed), or
     *           Byte1('O') + TupleData of the old row (REPLICA IDENTITY FULL)
     * Byte1('N')  new tuple follows
     * TupleData
     * </pre>
     */
    Update update(ByteBuffer buf) {
        int relationId = buf.getInt();
        byte marker = buf.get();
        char oldKind = 0;
        TupleData oldTuple = null;
        if (marker == 'K' || marker == 'O') {
            oldKind = (char) marker;
            oldTuple = tupleData(buf);
            marker = buf.get();
        }
        if (marker != 'N') {
            throw new PgOutputFormatException("UPDATE: expected 'N' before the new tuple, got '" + (char) marker + "'");
        }
        return new Update(relationId, oldKind, oldTuple, tupleData(buf));
    }

    /**
     * <pre>
     * Byte1('D')
     * Int32  relation OID
     * Byte1('K') (old key; non-key columns are null) or Byte1('O') (old row; REPLICA IDENTITY FULL)
     * TupleData
     * </pre>
     */
    Delete delete(ByteBuffer buf) {
        int relationId = buf.getInt();
        byte marker = buf.get();
        if (marker != 'K' && marker != 'O') {
            throw new PgOutputFormatException("DELETE: expected 'K' or 'O', got '" + (char) marker + "'");
        }
        return new Delete(relationId, (char) marker, tupleData(buf));
    }

    /**
     * <pre>
     * Byte1('T')
     * Int32  number of relations
     * Int8   options (1 = CASCADE, 2 = RESTART IDENTITY)
     * Int32  relation OID, repeated per relation
     * </pre>
     */
    Truncate truncate(ByteBuffer buf) {
        int n = buf.getInt();
        int options = buf.get();
        int[] ids = new int[n];
        for (int i = 0; i < n; i++) {
            ids[i] = buf.getInt();
        }
        return new Truncate((options & Truncate.OPTION_CASCADE) != 0, (options & Truncate.OPTION_RESTART_IDENTITY) != 0, ids);
    }

    /**
     * <pre>
     * Byte1('M')
     * Int8   flags (1 = transactional)
     * Int64  LSN of the message
     * String prefix
     * Int32  content length n
     * Byte[n] content
     * </pre>
     */
    LogicalMessage message(ByteBuffer buf) {
        boolean transactional = (buf.get() & 1) != 0;
        Lsn lsn = Lsn.of(buf.getLong());
        String prefix = string(buf);
        byte[] content = new byte[buf.getInt()];
        buf.get(content);
        return new LogicalMessage(transactional, lsn, prefix, content);
    }

    /**
     * <pre>
     * Int16  number of columns, then per column one of:
     *   Byte1('n')                      NULL
     *   Byte1('u')                      unchanged TOASTed value (not sent)
     *   Byte1('t') Int32 n, Byte[n]     value in text format
     *   Byte1('b') Int32 n, Byte[n]     value in binary format (only with the binary option)
     * </pre>
     */
    TupleData tupleData(ByteBuffer buf) {
        int n = Short.toUnsignedInt(buf.getShort());
        byte[] kinds = new byte[n];
        byte[][] values = new byte[n][];
        for (int i = 0; i < n; i++) {
            byte kind = buf.get();
            kinds[i] = kind;
            switch (kind) {
                case TupleData.NULL, TupleData.UNCHANGED_TOAST -> {
                }
                case TupleData.TEXT, TupleData.BINARY -> {
                    byte[] v = new byte[buf.getInt()];
                    buf.get(v);
                    values[i] = v;
                }
                default -> throw new PgOutputFormatException("tuple column " + i + ": unknown kind '" + (char) kind + "'");
            }
        }
        return new TupleData(kinds, values);
    }

    private static void expect(ByteBuffer buf, char expected, String what) {
        byte b = buf.get();
        if (b != expected) {
            throw new PgOutputFormatException(what + ": expected '" + expected + "', got '" + (char) b + "'");
        }
    }

    private static String string(ByteBuffer buf) {
        int start = buf.position();
        int end = start;
        while (buf.get(end) != 0) {
            end++;
        }
        byte[] bytes = new byte[end - start];
        buf.get(bytes);
        buf.get(); // the NUL
        return new String(bytes, StandardCharsets.UTF_8);
    }
}
