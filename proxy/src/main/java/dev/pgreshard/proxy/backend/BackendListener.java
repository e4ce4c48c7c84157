package dev.pgreshard.proxy.backend;

import dev.pgreshard.proxy.protocol.PgFrame;

/** Receives what a {@link BackendConnection} reports; called on the connection's event loop. */
public interface BackendListener {
    /** Login finished: parameters and key are known, the server sent its first ReadyForQuery. */
    void onBackendReady(BackendConnection backend);

    /** A message of the message phase (ownership passes to the listener). */
    void onBackendMessage(BackendConnection backend, PgFrame frame);

    /**
     * What one read of the server brought, to forward unchanged (ownership passes); only for a listener
     * that asked for it with {@link BackendConnection#relay}.
     */
    default void onBackendBytes(BackendConnection backend, dev.pgreshard.proxy.protocol.RelayedBytes bytes) {
        bytes.release();
        throw new IllegalStateException(getClass().getSimpleName() + " did not ask for relayed bytes");
    }

    /**
     * The server ended the session with its own FATAL ErrorResponse {@code fatal} (ownership passes):
     * it is the client's last message, relayed as it is; no {@link #onBackendFailure} follows.
     */
    void onBackendEnded(BackendConnection backend, PgFrame fatal);

    /** The server sent everything it had for now: a good moment to flush towards the client. */
    void onBackendReadComplete(BackendConnection backend);

    /** Connect, login or the connection failed; {@code sqlState}/{@code message} say why (never a secret). */
    void onBackendFailure(BackendConnection backend, String sqlState, String message);

    /** The backend's socket can take more (or no more) writes: for flow control of the client socket. */
    default void onBackendWritabilityChanged(BackendConnection backend, boolean writable) {
    }
}
