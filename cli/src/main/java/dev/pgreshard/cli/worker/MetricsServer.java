package dev.pgreshard.cli.worker;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.pgreshard.cli.BadInputException;
import dev.pgreshard.core.metrics.Metrics;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * {@code GET /metrics} (Prometheus text format) for a process without a proxy: {@code pgreshard
 * worker --metrics-port N}. Under {@code run} the proxy's control port serves the same registry.
 */
public final class MetricsServer implements AutoCloseable {
    private final HttpServer server;
    private final ExecutorService executor;

    private MetricsServer(HttpServer server, ExecutorService executor) {
        this.server = server;
        this.executor = executor;
    }

    public static MetricsServer start(String bind, int port) {
        try {
            HttpServer server = HttpServer.create(new InetSocketAddress(bind, port), 16);
            ExecutorService executor = Executors.newSingleThreadExecutor(r -> {
                Thread t = new Thread(r, "pgreshard-metrics");
                t.setDaemon(true);
                return t;
            });
            server.setExecutor(executor);
            server.createContext("/", MetricsServer::handle);
            server.start();
            return new MetricsServer(server, executor);
        } catch (IOException e) {
            throw new BadInputException("cannot serve metrics on " + bind + ":" + port + " (--metrics-port; bound to "
                    + "[general] control_bind): " + e.getMessage() + "; choose a free port");
        }
    }

    public int port() {
        return server.getAddress().getPort();
    }

    private static void handle(HttpExchange ex) throws IOException {
        try (ex) {
            boolean metrics = ex.getRequestMethod().equals("GET") && ex.getRequestURI().getPath().equals("/metrics");
            byte[] body = (metrics ? Metrics.scrape() : "no endpoint " + ex.getRequestURI().getPath() + "; see GET /metrics\n")
                    .getBytes(StandardCharsets.UTF_8);
            ex.getResponseHeaders().add("Content-Type", Metrics.CONTENT_TYPE);
            ex.sendResponseHeaders(metrics ? 200 : 404, body.length);
            try (OutputStream out = ex.getResponseBody()) {
                out.write(body);
            }
        }
    }

    @Override
    public void close() {
        server.stop(0);
        executor.shutdownNow();
    }
}
