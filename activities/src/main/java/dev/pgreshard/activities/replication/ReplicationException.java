package dev.pgreshard.activities.replication;

/** A replication stream failed for a reason that may pass on a retry (connection lost, server restart). */
public final class ReplicationException extends RuntimeException {
    public ReplicationException(String message, Throwable cause) {
        super(message, cause);
    }
}
