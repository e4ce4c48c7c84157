package dev.pgreshard.cli.temporal;

import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.temporal.internal.testservice.GRPCServerHelper;
import io.temporal.internal.testservice.TestServicesStarter;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;

/**
 * The Temporal Java test server bound to a port in this JVM ({@code [temporal] target = "embedded"},
 * {@code pgreshard temporal}). Its state is in memory: it does not survive its own process.
 */
public final class EmbeddedTemporal implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(EmbeddedTemporal.class);
    /** Where it listens unless told otherwise: this machine only (it has no authentication). */
    public static final String LOOPBACK = "127.0.0.1";
    private final TestServicesStarter services;
    private final Server server;
    private final int port;

    private EmbeddedTemporal(TestServicesStarter services, Server server, int port) {
        this.services = services;
        this.server = server;
        this.port = port;
    }

    public static EmbeddedTemporal start(int port) {
        return start(LOOPBACK, port);
    }

    /**
     * The test server's services on {@code bind:port} only. (TestServer.createPortBoundServer would
     * listen on every interface while we print 127.0.0.1.)
     */
    public static EmbeddedTemporal start(String bind, int port) {
        ensureFree(bind, port);
        // lockTimeSkipping = true: real time, as a production server keeps it
        TestServicesStarter services = new TestServicesStarter(true, 0);
        NettyServerBuilder builder = NettyServerBuilder.forAddress(new InetSocketAddress(bind, port));
        // with the health service, as TestServer's own: clients check it before their first call
        GRPCServerHelper.registerServicesAndHealthChecks(services.getServices(), builder);
        Server server;
        try {
            server = builder.build().start();
        } catch (IOException e) {
            services.close();
            throw new IllegalStateException("cannot listen on " + bind + ":" + port + " for the embedded Temporal server: "
                    + e.getMessage(), e);
        }
        LOG.warn("embedded Temporal test server on {}:{}: its state is in memory and is lost when this process "
                + "exits, taking every task's progress with it; use a real Temporal cluster ([temporal] target = "
                + "\"host:7233\", see docker-compose.yml) for anything that must survive a restart", bind, port);
        return new EmbeddedTemporal(services, server, port);
    }

    private static void ensureFree(String bind, int port) {
        try (ServerSocket probe = new ServerSocket()) {
            probe.bind(new InetSocketAddress(bind, port));
        } catch (IOException e) {
            throw new IllegalStateException("port " + port + " is in use, so the embedded Temporal server cannot start "
                    + "there; another `pgreshard run`/`worker`/`temporal` may be running, or set [temporal] embedded_port");
        }
    }

    public int port() {
        return port;
    }

    @Override
    public void close() {
        server.shutdown();
        try {
            server.awaitTermination(5, java.util.concurrent.TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        services.close();
    }
}
