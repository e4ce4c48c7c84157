package dev.pgreshard.activities.catalog;

/**
 * A failure that no retry can fix: a missing publication, a table without a primary key, a
 * destination that is not empty, a statement the destination rejects. The message names the
 * database, the table and the fix. Activities turn it into a non-retryable ApplicationFailure;
 * the CLI prints it as one line. It never carries a secret.
 */
public class NotRetryableException extends RuntimeException {
    public NotRetryableException(String message) {
        super(message);
    }

    public NotRetryableException(String message, Throwable cause) {
        super(message, cause);
    }
}
