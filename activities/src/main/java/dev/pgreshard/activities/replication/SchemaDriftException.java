package dev.pgreshard.activities.replication;

/**
 * The source's schema no longer matches a destination shard (a column added on the source, a table
 * missing on a shard). Retrying cannot help, so the activity fails non-retryably with this message,
 * which names the table, the column and the shard.
 */
public final class SchemaDriftException extends RuntimeException {
    public SchemaDriftException(String message) {
        super(message);
    }
}
