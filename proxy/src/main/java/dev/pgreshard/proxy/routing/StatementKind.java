package dev.pgreshard.proxy.routing;

/** What a statement does, as far as routing cares. */
public enum StatementKind {
    /** SELECT (and VALUES/TABLE/EXPLAIN/SHOW when unparsed): may fan out. */
    READ,
    /** INSERT/UPDATE/DELETE/MERGE. */
    WRITE,
    /** DDL and other statements that change every shard (CREATE, ALTER, DROP, TRUNCATE, ...). */
    ALL_SHARDS_WRITE,
    /** SET/RESET/DISCARD: session settings, applied on every server of the session and replayed on new ones. */
    SESSION,
    /** BEGIN / START TRANSACTION. */
    BEGIN,
    /** COMMIT / END. */
    COMMIT,
    /** ROLLBACK / ABORT (not ROLLBACK TO SAVEPOINT). */
    ROLLBACK,
    /** SAVEPOINT, RELEASE, ROLLBACK TO, SET TRANSACTION/LOCAL: only meaningful on the servers of the open transaction. */
    IN_TRANSACTION,
    /** COPY ... FROM STDIN. */
    COPY_IN,
    /** COPY ... TO STDOUT. */
    COPY_OUT,
    /** SHOW and other read-only commands answered identically by every shard: one shard. */
    ANY_SHARD,
    /** The parser could not read it and it may write. */
    UNKNOWN
}
