package dev.pgreshard.activities.replication.pgoutput;

/** A pgoutput message that does not follow the documented layout. */
public final class PgOutputFormatException extends RuntimeException {
    public PgOutputFormatException(String message) {
        super(message);
    }
}
