package dev.pgreshard.proxy;

import dev.pgreshard.proxy.auth.AuthMethod;
import dev.pgreshard.proxy.protocol.PgFrameDecoder;

/**
 * Settings of a proxy that are not part of pgreshard.toml.
 *
 * @param authMethod    how clients are asked for their password (SCRAM-SHA-256 by default; md5 on request)
 * @param maxMessage    largest frontend or backend message accepted, in bytes
 * @param eventLoops    threads serving client and backend sockets (0 = one per core, one on a 1–2 core machine)
 * @param controlApi    whether to serve the HTTP control API on [general] control_bind:control_port
 * @param maxFanOutBytes largest answer of one statement from several shards held for merging; beyond it the
 *                       client gets SQLSTATE 54000 instead of the proxy running out of memory
 * @param serverIdleTimeoutMs how long a server connection of an ended session is kept, reset, for the next
 *                       session of the same user and database (0 = not kept: every session logs in anew)
 */
public record ProxyOptions(AuthMethod authMethod, int maxMessage, int eventLoops, boolean controlApi, long maxFanOutBytes,
                           long serverIdleTimeoutMs) {
    /**
     * Off by default: a kept connection is a session on the server that no client has (DROP DATABASE of its
     * database fails until it is closed, pg_stat_activity lists it) and the next session inherits its pid and its
     * role's settings and password as of its login. {@code --server-idle-timeout} turns reuse on.
     */
    public static final long DEFAULT_SERVER_IDLE_TIMEOUT_MS = 0;
    public static final ProxyOptions DEFAULTS = new ProxyOptions(AuthMethod.SCRAM_SHA_256,
            PgFrameDecoder.DEFAULT_MAX_MESSAGE, 0, true, 256L * 1024 * 1024, DEFAULT_SERVER_IDLE_TIMEOUT_MS);

    public ProxyOptions {
        if (serverIdleTimeoutMs < 0) {
            throw new IllegalArgumentException("the server idle timeout must be 0 or more, got " + serverIdleTimeoutMs);
        }
    }

    public ProxyOptions withAuthMethod(AuthMethod method) {
        return new ProxyOptions(method, maxMessage, eventLoops, controlApi, maxFanOutBytes, serverIdleTimeoutMs);
    }

    public ProxyOptions withControlApi(boolean enabled) {
        return new ProxyOptions(authMethod, maxMessage, eventLoops, enabled, maxFanOutBytes, serverIdleTimeoutMs);
    }

    public ProxyOptions withEventLoops(int threads) {
        return new ProxyOptions(authMethod, maxMessage, threads, controlApi, maxFanOutBytes, serverIdleTimeoutMs);
    }

    public ProxyOptions withMaxFanOutBytes(long bytes) {
        return new ProxyOptions(authMethod, maxMessage, eventLoops, controlApi, bytes, serverIdleTimeoutMs);
    }

    public ProxyOptions withServerIdleTimeoutMs(long ms) {
        return new ProxyOptions(authMethod, maxMessage, eventLoops, controlApi, maxFanOutBytes, ms);
    }
}
