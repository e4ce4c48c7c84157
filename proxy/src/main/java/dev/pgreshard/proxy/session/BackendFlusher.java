package dev.pgreshard.proxy.session;

/** A handler whose backend writes are batched and flushed when the client's read burst ends. */
interface BackendFlusher {
    void flushBackends();
}
