package dev.pgreshard.activities.cutover;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.pgreshard.core.config.AdminConfig;

import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * The registered proxies, driven through their HTTP control API (see the proxy's ControlServer):
 * every call goes to all of them at once, and each answer is checked. The answer to a pause is the
 * acknowledgement the cutover needs: {@code paused = true} and {@code in_flight = 0} after waiting.
 */
final class ProxyFleet {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(2);

    /** One client per JVM: its connections stay open between cutovers, so a pause pays no handshake. */
    private static final HttpClient SHARED = HttpClient.newBuilder().connectTimeout(CONNECT_TIMEOUT).build();

    private final HttpClient http;
    private final String authorization;
    private final List<String> urls;

    ProxyFleet(AdminConfig admin, List<String> urls) {
        this.http = SHARED;
        this.authorization = "Basic " + Base64.getEncoder().encodeToString(
                (admin.user() + ":" + admin.password().reveal()).getBytes(StandardCharsets.UTF_8));
        this.urls = List.copyOf(urls);
    }

    List<String> urls() {
        return urls;
    }

    /** The same fleet narrowed to {@code subset} (e.g. the proxies that did not take a swap yet). */
    ProxyFleet only(java.util.Collection<String> subset) {
        return new ProxyFleet(http, authorization, urls.stream().filter(subset::contains).toList());
    }

    private ProxyFleet(HttpClient http, String authorization, List<String> urls) {
        this.http = http;
        this.authorization = authorization;
        this.urls = urls;
    }

    /**
     * Pauses {@code database} on every proxy, each waiting up to {@code waitMs} for its in-flight
     * transactions to end, and holding the pause at most {@code leaseMs} unless swapped or resumed
     * (a worker that dies mid-cutover must not leave clients waiting forever). Returns, by proxy, the
     * problem of each one that did not acknowledge a drained pause; empty when all did.
     */
    Map<String, String> pause(String database, long waitMs, long leaseMs) {
        return callAll("POST", "/pause?database=" + encode(database) + "&wait_ms=" + waitMs + "&lease_ms=" + leaseMs, Duration.ofMillis(waitMs + 2000),
                reply -> {
                    if (!reply.path("paused").asBoolean(false)) {
                        return "did not pause";
                    }
                    int inFlight = reply.path("in_flight").asInt(-1);
                    return inFlight == 0 ? null : inFlight + " transaction(s) still in flight after " + waitMs + " ms";
                });
    }

    /**
     * The proxies that serve {@code database} (their GET /routing lists it): a proxy configured for
     * other databases only takes no part in its cutover. A proxy that does not answer stays in (the
     * check before the pause then reports it), since it may serve the database.
     */
    ProxyFleet serving(String database) {
        Map<String, CompletableFuture<HttpResponse<String>>> calls = new LinkedHashMap<>();
        for (String url : urls) {
            calls.put(url, http.sendAsync(HttpRequest.newBuilder(URI.create(url + "/routing")).timeout(Duration.ofSeconds(5))
                    .header("Authorization", authorization).GET().build(), HttpResponse.BodyHandlers.ofString()));
        }
        List<String> serving = new java.util.ArrayList<>();
        calls.forEach((url, call) -> {
            try {
                HttpResponse<String> response = call.join();
                if (response.statusCode() != 200) {
                    serving.add(url);
                    return;
                }
                for (JsonNode route : JSON.readTree(response.body())) {
                    if (database.equals(route.path("database").asText())) {
                        serving.add(url);
                        return;
                    }
                }
            } catch (RuntimeException | java.io.IOException e) {
                serving.add(url);
            }
        });
        return only(serving);
    }

    /**
     * Asks every proxy for its state of {@code database} (GET /status): proves each is reachable and
     * accepts our credentials before anyone is paused, and warms the connections the pause will use.
     */
    Map<String, String> check(String database) {
        return callAll("GET", "/status?database=" + encode(database), Duration.ofSeconds(5),
                reply -> reply.path("paused").asBoolean(false) ? "is paused already (by an operator's PAUSE or "
                        + "another cutover); RESUME it first" : null);
    }

    /**
     * The warm switch (POST /routing/prepare): every proxy opens, logs in and prepares its sessions'
     * connections to {@code cluster} and answers once they are ready, within {@code waitMs}. Returns, by
     * proxy, why one could not (a shard refusing connections, a login refused); a proxy with a problem
     * has closed what it opened already.
     */
    Map<String, String> prepare(String database, String cluster, long epoch, long waitMs, long ttlMs) {
        return callAll("POST", "/routing/prepare?database=" + encode(database) + "&cluster=" + encode(cluster) + "&epoch=" + epoch
                        + "&wait_ms=" + waitMs + "&ttl_ms=" + ttlMs, Duration.ofMillis(waitMs + 5000),
                reply -> {
                    List<String> problems = new java.util.ArrayList<>();
                    reply.path("problems").forEach(p -> problems.add(p.asText()));
                    return problems.isEmpty() ? null : "cannot open its sessions' connections to cluster '" + cluster + "': "
                            + String.join("; ", problems);
                });
    }

    /** Closes what {@link #prepare} opened and no swap took (the attempt was given up). */
    Map<String, String> discard(String database) {
        return callAll("POST", "/routing/discard?database=" + encode(database), Duration.ofSeconds(5), reply -> null);
    }

    Map<String, String> swap(String database, String cluster, long epoch) {
        return callAll("POST", "/routing/swap?database=" + encode(database) + "&cluster=" + encode(cluster) + "&epoch=" + epoch,
                Duration.ofSeconds(5), reply -> epoch == reply.path("epoch").asLong(-1) ? null
                        : "answered epoch " + reply.path("epoch").asText() + " instead of " + epoch);
    }

    /**
     * {@link #swap} and {@link #resume} in one call per proxy (POST /routing/swap with resume=true): a
     * proxy's clients continue as soon as it has the new route, without a second round trip.
     */
    Map<String, String> swapAndResume(String database, String cluster, long epoch) {
        return callAll("POST", "/routing/swap?database=" + encode(database) + "&cluster=" + encode(cluster) + "&epoch=" + epoch
                        + "&resume=true", Duration.ofSeconds(5), reply -> epoch != reply.path("epoch").asLong(-1)
                        ? "answered epoch " + reply.path("epoch").asText() + " instead of " + epoch
                        : reply.path("paused").asBoolean(false) ? "swapped but still paused" : null);
    }

    Map<String, String> resume(String database) {
        return callAll("POST", "/resume?database=" + encode(database), Duration.ofSeconds(5),
                reply -> reply.path("paused").asBoolean(true) ? "still paused" : null);
    }

    private interface ReplyCheck {
        /** The problem with a 200 reply, or null. */
        String problem(JsonNode reply);
    }

    private Map<String, String> callAll(String method, String pathAndQuery, Duration timeout, ReplyCheck check) {
        Map<String, CompletableFuture<HttpResponse<String>>> calls = new LinkedHashMap<>();
        for (String url : urls) {
            HttpRequest request = HttpRequest.newBuilder(URI.create(url + pathAndQuery)).timeout(timeout)
                    .header("Authorization", authorization).method(method, HttpRequest.BodyPublishers.noBody()).build();
            calls.put(url, http.sendAsync(request, HttpResponse.BodyHandlers.ofString()));
        }
        Map<String, String> problems = new LinkedHashMap<>();
        calls.forEach((url, call) -> {
            String problem;
            try {
                HttpResponse<String> response = call.join();
                JsonNode body = JSON.readTree(response.body());
                problem = response.statusCode() == 200 ? check.problem(body)
                        : "HTTP " + response.statusCode() + ": " + body.path("error").asText(response.body());
            } catch (RuntimeException | java.io.IOException e) {
                Throwable cause = e.getCause() != null ? e.getCause() : e;
                problem = "unreachable (" + cause.getClass().getSimpleName()
                        + (cause.getMessage() == null ? "" : ": " + cause.getMessage()) + ")";
            }
            if (problem != null) {
                problems.put(url, "proxy " + url + " " + problem);
            }
        });
        return problems;
    }

    private static String encode(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }
}
