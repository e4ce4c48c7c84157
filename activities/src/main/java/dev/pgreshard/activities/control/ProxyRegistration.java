package dev.pgreshard.activities.control;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * A proxy's life in the control store: registered (so every cutover pauses it), a heartbeat every
 * {@link #INTERVAL}, the routing epochs applied at start and on every heartbeat (a proxy that was
 * down or unreachable during a swap catches up by itself), and deregistered on a clean stop.
 */
public final class ProxyRegistration implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ProxyRegistration.class);
    /** How often a proxy heartbeats. */
    public static final Duration INTERVAL = Duration.ofSeconds(2);
    /**
     * A proxy silent this long is taken for gone: a cutover does not wait for it. Many intervals, so a
     * slow control store or a long GC pause does not drop a live proxy from the cutover.
     */
    public static final Duration LIVENESS = Duration.ofSeconds(30);

    /** Applies a route from the control store to the running proxy. */
    public interface RouteSink {
        /** Installs {@code cluster} for {@code database} at {@code epoch} if newer than what the proxy has. */
        void apply(String database, String cluster, long epoch);
    }

    private final ControlStore store;
    private final String controlUrl;
    private final String hostName;
    private final long processId;
    private final RouteSink sink;
    private final ScheduledExecutorService timer;
    private final Set<String> reported = new HashSet<>();
    private volatile boolean healthy = true;

    private ProxyRegistration(ControlStore store, String controlUrl, String hostName, RouteSink sink) {
        this.store = store;
        this.controlUrl = controlUrl;
        this.hostName = hostName;
        this.processId = ProcessHandle.current().pid();
        this.sink = sink;
        this.timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "pgreshard-proxy-registration");
            t.setDaemon(true);
            return t;
        });
    }

    /**
     * Registers and applies the stored routes before returning (a failure here is the caller's: the
     * proxy must not serve with routes it could not load), then heartbeats in the background.
     */
    public static ProxyRegistration start(ControlStore store, String controlUrl, String hostName, RouteSink sink) {
        ProxyRegistration registration = new ProxyRegistration(store, controlUrl, hostName, sink);
        registration.beat();
        registration.timer.scheduleWithFixedDelay(registration::beatQuietly, INTERVAL.toMillis(), INTERVAL.toMillis(),
                TimeUnit.MILLISECONDS);
        log.info("proxy registered in the control store as {}", controlUrl);
        return registration;
    }

    public String controlUrl() {
        return controlUrl;
    }

    /** Heartbeats and applies the stored routes now; throws when the control store cannot be read. */
    public void refreshRoutes() {
        beat();
    }

    private void beat() {
        store.proxies().heartbeat(controlUrl, hostName, processId);
        applyRoutes(store.routes().findAllOrderByDatabaseName());
    }

    private void applyRoutes(List<RouteRow> routes) {
        for (RouteRow route : routes) {
            try {
                sink.apply(route.databaseName(), route.cluster(), route.epoch());
            } catch (IllegalArgumentException e) {
                // e.g. a database this proxy's config does not serve: say it once, not every 2 s
                if (reported.add(route.databaseName() + "@" + route.epoch())) {
                    log.warn("route of '{}' (cluster {}, epoch {}) from the control store not applied: {}",
                            route.databaseName(), route.cluster(), route.epoch(), e.getMessage());
                }
            }
        }
    }

    private void beatQuietly() {
        try {
            beat();
            if (!healthy) {
                log.info("control store reachable again; proxy {} registered", controlUrl);
                healthy = true;
            }
        } catch (RuntimeException e) {
            if (healthy) {
                log.warn("proxy {} cannot heartbeat to the control store ({}); a cutover will not wait for it once "
                        + "it has been silent for {} s, and it applies missed routing epochs when it reaches the store again",
                        controlUrl, e.getMessage(), LIVENESS.toSeconds());
                healthy = false;
            }
        }
    }

    /** Stops heartbeating and deregisters (a cutover then no longer waits for this proxy). */
    @Override
    public void close() {
        timer.shutdownNow();
        try {
            timer.awaitTermination(5, TimeUnit.SECONDS);
            store.proxies().deleteById(controlUrl);
            log.info("proxy {} deregistered from the control store", controlUrl);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException e) {
            log.warn("proxy {} could not deregister ({}); it drops out of cutovers {} s after its last heartbeat",
                    controlUrl, e.getMessage(), LIVENESS.toSeconds());
        }
    }
}
