package dev.pgreshard.proxy.backend;

import dev.pgreshard.proxy.protocol.PgFrame;

/** Receives what a {@link BackendConnection} reports; called on the connection's event loop. */
public interface BackendListener {
    /** Login finished: parameters and key are known, the server sent its first ReadyForQuery. */
    void onBackendReady(BackendConnection backend);

    /** A message of the message phase (ownership passes to the listener). */
    void onBackendMessage(BackendConnection backend, PgFrame frame);

    /** The server sent everything it had for now: a good moment to flush towards the client. */
    void onBackendReadComplete(BackendConnection backend);

    /** Connect, login or the connection failed; {@code sqlState}/{@code message} say why (never a secret). */
    void onBackendFailure(BackendConnection backend, String sqlState, String message);

    /** The backend's socket can take more (or no more) writes: for flow control of the client socket. */
    default void onBackendWritabilityChanged(BackendConnection backend, boolean writable) {
    }
}
