package dev.pgreshard.proxy.protocol;

/**
 * Input that breaks the PostgreSQL protocol: the connection is answered with a FATAL error of
 * {@link #sqlState()} and closed — or, for a {@link #silent} one, closed without a word, as
 * PostgreSQL closes a connection whose first bytes are not a startup packet at all (it only logs
 * them: a client that speaks something else would not understand an ErrorResponse either).
 */
public class ProtocolException extends RuntimeException {
    private final String sqlState;

    public ProtocolException(String message) {
        this(SqlState.PROTOCOL_VIOLATION, message);
    }

    public ProtocolException(String sqlState, String message) {
        super(message);
        this.sqlState = sqlState;
    }

    /** A violation PostgreSQL answers by closing the connection without any message; {@code why} is for the log. */
    public static ProtocolException silent(String why) {
        return new ProtocolException(null, why);
    }

    public boolean silent() {
        return sqlState == null;
    }

    /** The SQLSTATE of the FATAL answer; null when {@link #silent()}. */
    public String sqlState() {
        return sqlState;
    }
}
