package dev.pgreshard.proxy;

import java.util.concurrent.atomic.AtomicLong;

/** Counters of a proxy since it started (served by GET /metrics of the control API). */
public final class ProxyMetrics {
    private final AtomicLong connections = new AtomicLong();
    private final AtomicLong logins = new AtomicLong();
    private final AtomicLong authenticationFailures = new AtomicLong();
    private final AtomicLong protocolErrors = new AtomicLong();
    private final AtomicLong routingSwaps = new AtomicLong();

    /** A snapshot, as JSON-friendly fields. */
    public record Snapshot(long connections, long logins, long authenticationFailures, long protocolErrors,
                           long routingSwaps, int clients) {
    }

    public void connection() {
        connections.incrementAndGet();
    }

    public void login() {
        logins.incrementAndGet();
    }

    public void authenticationFailure() {
        authenticationFailures.incrementAndGet();
    }

    public void protocolError() {
        protocolErrors.incrementAndGet();
    }

    public void routingSwap() {
        routingSwaps.incrementAndGet();
    }

    public Snapshot snapshot(int clients) {
        return new Snapshot(connections.get(), logins.get(), authenticationFailures.get(), protocolErrors.get(),
                routingSwaps.get(), clients);
    }
}
