package dev.pgreshard.proxy.control;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.pgreshard.core.config.AdminConfig;
import dev.pgreshard.core.metrics.Metrics;
import dev.pgreshard.proxy.ProxyControl;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * The HTTP control API (JSON), for the cutover activity and operators. Every endpoint but
 * {@code GET /health} and {@code GET /metrics} requires HTTP Basic with the [admin] user and password.
 * <pre>
 * GET  /health                                      {"status":"ok","paused":bool}
 * GET  /metrics                                     every meter of this JVM (proxy, and the worker's under
 *                                                   `run`) in the Prometheus text format; read-only, no secrets,
 *                                                   so unauthenticated like a Prometheus exporter
 * GET  /metrics.json                                this proxy's counters as JSON (also GET /metrics with
 *                                                   Accept: application/json)
 * GET  /status[?database=db]                        pause acknowledgement (see below)
 * POST /pause[?database=db][&amp;wait_ms=N][&amp;lease_ms=L]
 *                                                   pause (all databases without database=); with wait_ms,
 *                                                   waits up to N ms for in-flight transactions to end; with
 *                                                   lease_ms, resumes by itself after L ms unless resumed</pre>
 * <pre>
 * POST /resume[?database=db]
 * GET  /routing                                     [{"database","cluster","epoch"}...]
 * POST /routing/swap?database=db&amp;cluster=c&amp;epoch=n[&amp;resume=true]  routes db to cluster c from epoch n on;
 *                                                   with resume=true resumes db too (one round trip at the cutover)
 * POST /routing/prepare?database=db&amp;cluster=c&amp;epoch=n[&amp;wait_ms=N][&amp;ttl_ms=T]
 *                                                   warm switch: every session of db opens and prepares its
 *                                                   connections to c (waits up to N ms, default 5000; not
 *                                                   taken by a swap within T ms, default 60000, they close):
 *                                                   {"database","cluster","epoch","sessions","connections","problems":[...]}
 *                                                   (problems empty: ready; else nothing stays open)
 * POST /routing/discard?database=db                 closes what /routing/prepare opened and no swap took
 * acknowledgement: {"databases":[...],"paused":true,"in_flight":N,"waiting":M}
 * </pre>
 * Bad requests get 400 with {"error": "..."}; wrong credentials 401. Served by the JDK's HTTP server:
 * a handful of small requests per cutover needs no framework.
 */
public final class ControlServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ControlServer.class);
    private static final ObjectMapper JSON = new ObjectMapper()
            .setPropertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE);

    static {
        // the JDK server leaves Nagle on: a reply written in two segments then waits for the client's
        // delayed ACK (~40 ms), and a cutover makes several calls while clients are paused
        if (System.getProperty("sun.net.httpserver.nodelay") == null) {
            System.setProperty("sun.net.httpserver.nodelay", "true");
        }
    }

    private final HttpServer server;
    private final ExecutorService executor;

    private ControlServer(HttpServer server, ExecutorService executor) {
        this.server = server;
        this.executor = executor;
    }

    public static ControlServer start(String bind, int port, ProxyControl control, AdminConfig admin) {
        if (admin.user() == null || admin.password() == null) {
            throw new IllegalArgumentException("the HTTP control API needs [admin] user and password");
        }
        try {
            HttpServer server = HttpServer.create(new InetSocketAddress(bind, port), 64);
            ExecutorService executor = Executors.newFixedThreadPool(4, r -> {
                Thread t = new Thread(r, "pgreshard-control");
                t.setDaemon(true);
                return t;
            });
            server.setExecutor(executor);
            byte[] expected = ("Basic " + Base64.getEncoder().encodeToString(
                    (admin.user() + ":" + admin.password().reveal()).getBytes(StandardCharsets.UTF_8)))
                    .getBytes(StandardCharsets.UTF_8);
            server.createContext("/", exchange -> handle(exchange, control, expected));
            server.start();
            return new ControlServer(server, executor);
        } catch (IOException e) {
            throw new IllegalStateException("cannot listen on " + bind + ":" + port + " for the HTTP control API "
                    + "([general] control_bind, control_port): " + e.getMessage() + (e instanceof java.net.BindException
                    ? " — another process (perhaps another proxy) holds this address; stop it or set [general] "
                    + "control_port to a free port" : ""), e);
        }
    }

    private static void handle(HttpExchange ex, ProxyControl control, byte[] expectedAuth) throws IOException {
        try (ex) {
            route(ex, control, expectedAuth);
        }
    }

    private static void route(HttpExchange ex, ProxyControl control, byte[] expectedAuth) throws IOException {
        try {
            String path = ex.getRequestURI().getPath();
            String method = ex.getRequestMethod();
            Map<String, String> q = query(ex.getRequestURI().getRawQuery());
            if (path.equals("/health") && method.equals("GET")) {
                reply(ex, 200, Map.of("status", "ok", "paused", control.status(null).paused()));
                return;
            }
            if (path.equals("/metrics") && method.equals("GET") && !acceptsJson(ex)) {
                replyText(ex, Metrics.scrape());
                return;
            }
            String auth = ex.getRequestHeaders().getFirst("Authorization");
            if (auth == null || !MessageDigest.isEqual(auth.getBytes(StandardCharsets.UTF_8), expectedAuth)) {
                ex.getResponseHeaders().add("WWW-Authenticate", "Basic realm=\"pgreshard\"");
                reply(ex, 401, Map.of("error", "authentication required: HTTP Basic with the [admin] user and password"));
                return;
            }
            Object result = switch (method + " " + path) {
                case "GET /status" -> control.status(q.get("database"));
                case "POST /pause" -> {
                    long leaseMs = q.containsKey("lease_ms") ? parseLong(q.get("lease_ms"), "lease_ms") : 0;
                    if (leaseMs < 0) {
                        throw new IllegalArgumentException("query parameter 'lease_ms' must be 0 (no lease) or more, got " + leaseMs);
                    }
                    ProxyControl.PauseAck ack = leaseMs > 0 ? control.pause(q.get("database"), leaseMs)
                            : control.pause(q.get("database"));
                    long waitMs = q.containsKey("wait_ms") ? parseLong(q.get("wait_ms"), "wait_ms") : 0;
                    yield waitMs > 0 ? control.awaitDrained(q.get("database"), Duration.ofMillis(waitMs)) : ack;
                }
                case "POST /resume" -> control.resume(q.get("database"));
                case "GET /routing" -> control.routing();
                case "GET /metrics", "GET /metrics.json" -> control.metrics();
                case "POST /routing/swap" -> {
                    ProxyControl.RoutingState state = control.swapRouting(required(q, "database"), required(q, "cluster"),
                            parseLong(required(q, "epoch"), "epoch"));
                    if (!"true".equals(q.get("resume"))) {
                        yield state;
                    }
                    ProxyControl.PauseAck ack = control.resume(state.database());
                    yield Map.of("database", state.database(), "cluster", state.cluster(), "epoch", state.epoch(),
                            "paused", ack.paused());
                }
                case "POST /routing/prepare" -> control.prepareSwitch(required(q, "database"), required(q, "cluster"),
                        parseLong(required(q, "epoch"), "epoch"), positive(q, "wait_ms", 5000), positive(q, "ttl_ms", 60_000));
                case "POST /routing/discard" -> control.discardSwitch(required(q, "database"));
                default -> null;
            };
            if (result == null) {
                reply(ex, 404, Map.of("error", "no endpoint " + method + " " + path
                        + "; see GET /health, GET /status, GET /metrics, GET /metrics.json, POST /pause, POST /resume, GET /routing, "
                        + "POST /routing/prepare, POST /routing/discard, POST /routing/swap"));
            } else {
                reply(ex, 200, result);
            }
        } catch (IllegalArgumentException e) {
            reply(ex, 400, Map.of("error", e.getMessage()));
        } catch (RuntimeException e) {
            LOG.warn("control API request {} failed", ex.getRequestURI(), e);
            reply(ex, 500, Map.of("error", e.toString()));
        }
    }

    private static String required(Map<String, String> q, String name) {
        String v = q.get(name);
        if (v == null || v.isEmpty()) {
            throw new IllegalArgumentException("missing query parameter '" + name + "'");
        }
        return v;
    }

    private static long positive(Map<String, String> q, String name, long dflt) {
        long v = q.containsKey(name) ? parseLong(q.get(name), name) : dflt;
        if (v < 1) {
            throw new IllegalArgumentException("query parameter '" + name + "' must be 1 or more, got " + v);
        }
        return v;
    }

    private static long parseLong(String v, String name) {
        try {
            return Long.parseLong(v);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("query parameter '" + name + "' must be an integer, got '" + v + "'");
        }
    }

    private static Map<String, String> query(String raw) {
        Map<String, String> q = new LinkedHashMap<>();
        if (raw == null || raw.isEmpty()) {
            return q;
        }
        for (String pair : raw.split("&")) {
            int eq = pair.indexOf('=');
            String k = URLDecoder.decode(eq < 0 ? pair : pair.substring(0, eq), StandardCharsets.UTF_8);
            String v = eq < 0 ? "" : URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8);
            q.put(k, v);
        }
        return q;
    }

    private static boolean acceptsJson(HttpExchange ex) {
        String accept = ex.getRequestHeaders().getFirst("Accept");
        return accept != null && accept.contains("application/json");
    }

    private static void replyText(HttpExchange ex, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().add("Content-Type", Metrics.CONTENT_TYPE);
        ex.sendResponseHeaders(200, bytes.length);
        try (OutputStream out = ex.getResponseBody()) {
            out.write(bytes);
        }
    }

    private static void reply(HttpExchange ex, int status, Object body) throws IOException {
        byte[] bytes = JSON.writeValueAsBytes(body);
        ex.getResponseHeaders().add("Content-Type", "application/json");
        ex.sendResponseHeaders(status, bytes.length);
        try (OutputStream out = ex.getResponseBody()) {
            out.write(bytes);
        }
    }

    /** The bound port (differs from the configured one when that was 0). */
    public int port() {
        return server.getAddress().getPort();
    }

    @Override
    public void close() {
        server.stop(0);
        executor.shutdownNow();
    }
}
