package dev.pgreshard.activities.catalog;

/**
 * The publication named for a task does not exist on the source: bad input (the CLI exits 2),
 * never retried. The message names the shard and the fix.
 */
public class UnknownPublicationException extends NotRetryableException {
    public UnknownPublicationException(String message) {
        super(message);
    }
}
