package dev.pgreshard.cli.temporal;

import io.temporal.testserver.TestServer;
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
    private final TestServer.PortBoundTestServer server;
    private final int port;

    private EmbeddedTemporal(TestServer.PortBoundTestServer server, int port) {
        this.server = server;
        this.port = port;
    }

    public static EmbeddedTemporal start(int port) {
        ensureFree(port);
        // lockTimeSkipping = true: real time, as a production server keeps it
        TestServer.PortBoundTestServer server = TestServer.createPortBoundServer(port, true);
        LOG.warn("embedded Temporal test server on 127.0.0.1:{}: its state is in memory and is lost when this process "
                + "exits, taking every task's progress with it; use a real Temporal cluster ([temporal] target = "
                + "\"host:7233\", see docker-compose.yml) for anything that must survive a restart", port);
        return new EmbeddedTemporal(server, port);
    }

    private static void ensureFree(int port) {
        try (ServerSocket probe = new ServerSocket()) {
            probe.bind(new InetSocketAddress("127.0.0.1", port));
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
        server.close();
    }
}
