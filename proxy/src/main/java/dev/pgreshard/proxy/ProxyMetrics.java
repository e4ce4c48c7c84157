package dev.pgreshard.proxy;

import dev.pgreshard.core.metrics.Metrics;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * What a proxy counts. Two views of the same events: the JVM-wide Prometheus meters of
 * {@link Metrics} (GET /metrics; counters add up over every proxy of the process, as a scrape
 * expects), and this proxy's own totals since it started (GET /metrics.json, {@link #snapshot}).
 *
 * <table>
 * <caption>Prometheus names</caption>
 * <tr><td>pgreshard_proxy_connections_total</td><td>TCP connections accepted</td></tr>
 * <tr><td>pgreshard_proxy_logins_total</td><td>successful logins</td></tr>
 * <tr><td>pgreshard_proxy_clients</td><td>logged-in clients now</td></tr>
 * <tr><td>pgreshard_proxy_clients_held</td><td>clients parked at the pause gate now</td></tr>
 * <tr><td>pgreshard_proxy_queries_total{database,cluster,shard}</td><td>requests (Query, or extended messages up to
 * Sync) sent to a shard</td></tr>
 * <tr><td>pgreshard_proxy_errors_total{kind}</td><td>kind = authentication | protocol | backend (a server connection
 * failed) | query (a server answered ErrorResponse) | refused (the proxy refused a statement)</td></tr>
 * <tr><td>pgreshard_proxy_pause_held_seconds{database}</td><td>histogram: how long each held transaction waited at
 * the pause gate</td></tr>
 * <tr><td>pgreshard_proxy_routing_swaps_total</td><td>routing epochs installed (cutovers and rollbacks)</td></tr>
 * <tr><td>pgreshard_proxy_prepared_in_doubt</td><td>our prepared transactions still on the shards after the last
 * recovery pass (in-flight commits included)</td></tr>
 * <tr><td>pgreshard_proxy_prepared_oldest_seconds</td><td>age of the oldest of them (0 when none): a growing value
 * means a transaction recovery cannot resolve (a shard or the control store unreachable)</td></tr>
 * <tr><td>pgreshard_proxy_two_phase_commits_total{result}</td><td>multi-shard commits: committed | rolled_back |
 * unknown (the decision could not be recorded; recovery resolves it)</td></tr>
 * </table>
 */
public final class ProxyMetrics {
    private static final MeterRegistry REGISTRY = Metrics.registry();
    private static final Counter CONNECTIONS = Counter.builder("pgreshard.proxy.connections")
            .description("client TCP connections accepted").register(REGISTRY);
    private static final Counter LOGINS = Counter.builder("pgreshard.proxy.logins")
            .description("client logins that succeeded").register(REGISTRY);
    private static final Counter SWAPS = Counter.builder("pgreshard.proxy.routing.swaps")
            .description("routing epochs installed (cutovers and rollbacks)").register(REGISTRY);
    private static final AtomicInteger CLIENTS = REGISTRY.gauge("pgreshard.proxy.clients", new AtomicInteger());
    private static final AtomicInteger HELD = REGISTRY.gauge("pgreshard.proxy.clients.held", new AtomicInteger());
    private static final AtomicInteger IN_DOUBT = REGISTRY.gauge("pgreshard.proxy.prepared.in.doubt", new AtomicInteger());
    private static final AtomicLong OLDEST_PREPARED = REGISTRY.gauge("pgreshard.proxy.prepared.oldest.seconds", new AtomicLong());
    private static final Map<String, Counter> TWO_PHASE = new ConcurrentHashMap<>();
    private static final Map<String, Counter> ERRORS = new ConcurrentHashMap<>();
    private static final Map<String, Counter> QUERIES = new ConcurrentHashMap<>();
    private static final Map<String, Timer> HOLDS = new ConcurrentHashMap<>();

    /** Error kinds of {@code pgreshard_proxy_errors_total}. */
    public enum ErrorKind { AUTHENTICATION, PROTOCOL, BACKEND, QUERY, REFUSED }

    private final AtomicLong connections = new AtomicLong();
    private final AtomicLong logins = new AtomicLong();
    private final AtomicLong authenticationFailures = new AtomicLong();
    private final AtomicLong protocolErrors = new AtomicLong();
    private final AtomicLong routingSwaps = new AtomicLong();

    /** A snapshot of this proxy's totals, as JSON-friendly fields. */
    public record Snapshot(long connections, long logins, long authenticationFailures, long protocolErrors,
                           long routingSwaps, int clients) {
    }

    public void connection() {
        connections.incrementAndGet();
        CONNECTIONS.increment();
    }

    /** A client logged in; pair with {@link #logout()} when that session ends. */
    public void login() {
        logins.incrementAndGet();
        LOGINS.increment();
        CLIENTS.incrementAndGet();
    }

    public void logout() {
        CLIENTS.decrementAndGet();
    }

    public void authenticationFailure() {
        authenticationFailures.incrementAndGet();
        error(ErrorKind.AUTHENTICATION);
    }

    public void protocolError() {
        protocolErrors.incrementAndGet();
        error(ErrorKind.PROTOCOL);
    }

    public void error(ErrorKind kind) {
        ERRORS.computeIfAbsent(kind.name().toLowerCase(), k -> Counter.builder("pgreshard.proxy.errors")
                .description("errors by kind: authentication, protocol, backend, query, refused")
                .tag("kind", k).register(REGISTRY)).increment();
    }

    public void routingSwap() {
        routingSwaps.incrementAndGet();
        SWAPS.increment();
    }

    /** The counter of requests sent to {@code shard} of {@code cluster} for clients of {@code database}; keep it per route. */
    public Counter queries(String database, String cluster, int shard) {
        return QUERIES.computeIfAbsent(database + '\0' + cluster + '\0' + shard, k -> Counter.builder("pgreshard.proxy.queries")
                .description("requests (a Query, or extended-protocol messages up to Sync) sent to a shard")
                .tag("database", database).tag("cluster", cluster).tag("shard", Integer.toString(shard))
                .register(REGISTRY));
    }

    /** After a recovery pass: how many of our prepared transactions remain, and the oldest one's age. */
    public void preparedInDoubt(int count, long oldestSeconds) {
        IN_DOUBT.set(count);
        OLDEST_PREPARED.set(oldestSeconds);
    }

    /** A multi-shard commit ended: committed, rolled_back or unknown. */
    public void twoPhaseCommit(String result) {
        TWO_PHASE.computeIfAbsent(result, r -> Counter.builder("pgreshard.proxy.two.phase.commits")
                .description("multi-shard commits by result: committed, rolled_back, unknown").tag("result", r)
                .register(REGISTRY)).increment();
    }

    /** A client's next transaction was parked at the pause gate. */
    public void holdStarted() {
        HELD.incrementAndGet();
    }

    /** The parked transaction was released after {@code nanos}. */
    public void holdEnded(String database, long nanos) {
        HELD.decrementAndGet();
        holds(database).record(nanos, TimeUnit.NANOSECONDS);
    }

    /**
     * Registers the meters a switch of {@code database} to {@code cluster} records into, before anyone is
     * paused: the first timer of a JVM loads and links the metrics library's histogram classes, which took
     * ≈ 50 ms of an event loop at the first release from the gate (bench/cutover, 2026-12-02), while every
     * client of that loop waited.
     */
    public void prepareSwitch(String database, String cluster, int shards) {
        holds(database);
        for (int shard = 0; shard < shards; shard++) {
            queries(database, cluster, shard);
        }
    }

    private static Timer holds(String database) {
        return HOLDS.computeIfAbsent(database, db -> Timer.builder("pgreshard.proxy.pause.held")
                .description("how long a client's transaction waited at the pause gate (cutover pauses)")
                .tag("database", db)
                .serviceLevelObjectives(Duration.ofMillis(1), Duration.ofMillis(5), Duration.ofMillis(10),
                        Duration.ofMillis(25), Duration.ofMillis(50), Duration.ofMillis(100), Duration.ofMillis(250),
                        Duration.ofMillis(500), Duration.ofSeconds(1), Duration.ofMillis(2500), Duration.ofSeconds(5),
                        Duration.ofSeconds(10))
                .register(REGISTRY));
    }

    public Snapshot snapshot(int clients) {
        return new Snapshot(connections.get(), logins.get(), authenticationFailures.get(), protocolErrors.get(),
                routingSwaps.get(), clients);
    }
}
