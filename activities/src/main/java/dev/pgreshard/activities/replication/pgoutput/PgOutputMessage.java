package dev.pgreshard.activities.replication.pgoutput;

import dev.pgreshard.core.pg.Lsn;

import java.util.List;

/** A decoded pgoutput message; one record per message type of protocol version 1. */
public sealed interface PgOutputMessage {

    PgOutputMessageType type();

    /** Start of a transaction; {@code finalLsn} is the LSN of its commit record. */
    record Begin(Lsn finalLsn, long commitTimeMicros, int xid) implements PgOutputMessage {
        public PgOutputMessageType type() {
            return PgOutputMessageType.BEGIN;
        }
    }

    /** End of a transaction: {@code commitLsn} = the commit record, {@code endLsn} = just past it. */
    record Commit(int flags, Lsn commitLsn, Lsn endLsn, long commitTimeMicros) implements PgOutputMessage {
        public PgOutputMessageType type() {
            return PgOutputMessageType.COMMIT;
        }
    }

    /** The transaction was replicated into the source from replication origin {@code name}. */
    record Origin(Lsn originLsn, String name) implements PgOutputMessage {
        public PgOutputMessageType type() {
            return PgOutputMessageType.ORIGIN;
        }
    }

    /** The shape of a table, sent before its first change in a session and after every change to it. */
    record Relation(int relationId, String namespace, String name, char replicaIdentity, List<Column> columns)
            implements PgOutputMessage {
        public static final char IDENTITY_DEFAULT = 'd';
        public static final char IDENTITY_NOTHING = 'n';
        public static final char IDENTITY_FULL = 'f';
        public static final char IDENTITY_INDEX = 'i';

        public PgOutputMessageType type() {
            return PgOutputMessageType.RELATION;
        }
    }

    /** A column of a {@link Relation}; {@code isKey} = part of the replica identity. */
    record Column(boolean isKey, String name, int typeOid, int typeModifier) {
    }

    /** A non-built-in data type used by a following Relation. */
    record Type(int typeOid, String namespace, String name) implements PgOutputMessage {
        public PgOutputMessageType type() {
            return PgOutputMessageType.TYPE;
        }
    }

    record Insert(int relationId, TupleData newTuple) implements PgOutputMessage {
        public PgOutputMessageType type() {
            return PgOutputMessageType.INSERT;
        }
    }

    /**
     * {@code oldKind}: {@code 'K'} (old replica-identity key columns; the key changed), {@code 'O'}
     * (the whole old row; REPLICA IDENTITY FULL) or {@code 0} (no old tuple: the identity did not change).
     */
    record Update(int relationId, char oldKind, TupleData oldTuple, TupleData newTuple) implements PgOutputMessage {
        public PgOutputMessageType type() {
            return PgOutputMessageType.UPDATE;
        }
    }

    /** {@code oldKind}: {@code 'K'} (key columns only, others null) or {@code 'O'} (whole row). */
    record Delete(int relationId, char oldKind, TupleData oldTuple) implements PgOutputMessage {
        public PgOutputMessageType type() {
            return PgOutputMessageType.DELETE;
        }
    }

    record Truncate(boolean cascade, boolean restartIdentity, int[] relationIds) implements PgOutputMessage {
        public static final int OPTION_CASCADE = 1;
        public static final int OPTION_RESTART_IDENTITY = 2;

        public PgOutputMessageType type() {
            return PgOutputMessageType.TRUNCATE;
        }
    }

    /** {@code pg_logical_emit_message()} output (sent only with the {@code messages} option). */
    record LogicalMessage(boolean transactional, Lsn lsn, String prefix, byte[] content) implements PgOutputMessage {
        public PgOutputMessageType type() {
            return PgOutputMessageType.MESSAGE;
        }
    }
}
