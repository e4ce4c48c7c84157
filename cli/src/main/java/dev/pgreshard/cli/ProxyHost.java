package dev.pgreshard.cli;

import dev.pgreshard.activities.control.ControlStore;
import dev.pgreshard.activities.control.ProxyRegistration;
import dev.pgreshard.core.config.GeneralConfig;
import dev.pgreshard.core.config.PgReshardConfig;
import dev.pgreshard.proxy.ProxyControl;
import dev.pgreshard.proxy.ProxyOptions;
import dev.pgreshard.proxy.ProxyServer;
import dev.pgreshard.proxy.backend.Transport;
import dev.pgreshard.proxy.twophase.PreparedTransactionsCheck;

import java.net.InetAddress;
import java.net.UnknownHostException;

/**
 * A proxy that takes part in cutovers: started paused, registered in the control store with the
 * routing epochs found there applied, then opened to clients. Without the registration a cutover
 * could not pause it, and it would keep sending writes to the old cluster after the swap.
 */
public final class ProxyHost implements AutoCloseable {
    private final ProxyServer server;
    private final ControlStore store;
    private final ProxyRegistration registration;
    private final ControlStoreDecisions decisions;

    private ProxyHost(ProxyServer server, ControlStore store, ProxyRegistration registration, ControlStoreDecisions decisions) {
        this.server = server;
        this.store = store;
        this.registration = registration;
        this.decisions = decisions;
    }

    public static ProxyHost start(PgReshardConfig config, ProxyOptions options) {
        try {
            Transport.describe(); // -Dpgreshard.proxy.transport naming no transport is bad input (exit 2), found first
        } catch (IllegalArgumentException e) {
            throw new BadInputException(e.getMessage());
        }
        quietLeakDetection();
        ControlStore store = ControlStore.open(config.requireControl());
        ProxyServer server = null;
        ControlStoreDecisions decisions = null;
        try {
            PreparedTransactionsCheck.check(config);
            server = ProxyServer.start(config, options);
            // multi-shard commits record their decisions in the control store; recovery starts with it
            decisions = new ControlStoreDecisions(store);
            server.bindDecisionLog(decisions);
            ProxyControl control = server.control();
            // no client may reach a cluster before the stored routes are in force
            control.pause(null);
            ProxyRegistration registration = ProxyRegistration.start(store, controlUrl(config.general(), server.controlPort()),
                    hostName(), (database, cluster, epoch) -> applyIfNewer(control, database, cluster, epoch));
            // a pause whose lease ends (its cutover died) resumes only on the routes the store has now
            control.onLeaseExpiry(database -> {
                registration.refreshRoutes();
                return true;
            });
            control.resume(null);
            return new ProxyHost(server, store, registration, decisions);
        } catch (RuntimeException e) {
            if (server != null) {
                server.close();
            }
            if (decisions != null) {
                decisions.close();
            }
            store.close();
            throw e;
        }
    }

    /**
     * Netty's buffer leak detector off unless {@code -Dio.netty.leakDetection.level} asks for it: by default it
     * records the stack of one buffer in 128, and in the pass-through relay that was ≈ 4 % of the event loop's
     * CPU (async-profiler, bench/proxy, 2026-12-02) for a report only a log would show. The proxy's own tests run
     * with it on (they start the proxy without this host).
     */
    private static void quietLeakDetection() {
        if (System.getProperty("io.netty.leakDetection.level") == null) {
            io.netty.util.ResourceLeakDetector.setLevel(io.netty.util.ResourceLeakDetector.Level.DISABLED);
        }
    }

    private static void applyIfNewer(ProxyControl control, String database, String cluster, long epoch) {
        for (ProxyControl.RoutingState route : control.routing()) {
            if (route.database().equals(database) && route.epoch() >= epoch) {
                return;
            }
        }
        control.swapRouting(database, cluster, epoch);
    }

    /**
     * The address a worker uses to reach this proxy's control API: the bind address, or this host's
     * name when the API binds to every interface.
     */
    static String controlUrl(GeneralConfig general, int port) {
        String bind = general.controlBind();
        String host = bind.equals("0.0.0.0") || bind.equals("::") || bind.isEmpty() ? hostName() : bind;
        return "http://" + (host.contains(":") ? "[" + host + "]" : host) + ":" + port;
    }

    private static String hostName() {
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (UnknownHostException e) {
            return "localhost";
        }
    }

    public ProxyServer server() {
        return server;
    }

    public String controlUrl() {
        return registration.controlUrl();
    }

    public void awaitClose() {
        server.awaitClose();
    }

    @Override
    public void close() {
        registration.close();
        server.close(); // records the commit decisions still waiting, through the writer closed next
        decisions.close();
        store.close();
    }
}
