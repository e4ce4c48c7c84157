package dev.pgreshard.proxy.protocol;

/** Input that breaks the PostgreSQL protocol: the connection is answered with an error and closed. */
public class ProtocolException extends RuntimeException {
    public ProtocolException(String message) {
        super(message);
    }
}
