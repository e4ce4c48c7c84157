package dev.pgreshard.proxy;

import dev.pgreshard.testkit.PostgresExtension;
import dev.pgreshard.testkit.TestDatabase;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.Properties;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** GET /metrics of the control API, scraped over HTTP as Prometheus would, before and after traffic. */
@ExtendWith(PostgresExtension.class)
class PrometheusMetricsTest {

    @Test
    void metricsMoveWithTrafficPausesErrorsAndSwaps(TestDatabase source, TestDatabase shard0, TestDatabase shard1)
            throws Exception {
        for (TestDatabase d : new TestDatabase[] {source, shard0, shard1}) {
            d.execute("CREATE TABLE orders (customer_id bigint NOT NULL, note text)");
        }
        try (ProxyFixture proxy = new ProxyFixture().cluster("prod", source).cluster("prod_sharded", shard0, shard1)
                .shardedTable("prod_sharded", "orders", "customer_id", "bigint").start()) {
            HttpResponse<String> first = scrape(proxy);
            assertEquals(200, first.statusCode(), "GET /metrics needs no credentials");
            assertTrue(first.headers().firstValue("Content-Type").orElse("").startsWith("text/plain"), first.headers().toString());
            Scrape before = new Scrape(first.body());
            for (String name : List.of("pgreshard_proxy_connections_total", "pgreshard_proxy_logins_total",
                    "pgreshard_proxy_clients", "pgreshard_proxy_clients_held", "pgreshard_proxy_routing_swaps_total",
                    "jvm_memory_used_bytes")) {
                assertTrue(before.has(name), name + " missing from\n" + first.body());
            }

            ControlClient control = new ControlClient(proxy.controlPort(), ProxyFixture.ADMIN_USER, ProxyFixture.ADMIN_PASSWORD);
            try (Connection c = proxy.connect("prod"); Statement st = c.createStatement()) {
                for (int i = 0; i < 10; i++) {
                    st.execute("INSERT INTO orders (customer_id, note) VALUES (" + i + ", 'x')");
                }
                assertThrows(SQLException.class, () -> st.execute("SELECT * FROM no_such_table"));
                Scrape during = new Scrape(scrape(proxy).body());
                assertTrue(during.sum("pgreshard_proxy_clients", "") >= 1, "a logged-in client is counted");

                // a pause holds the client's next transaction; the hold lands in the histogram
                control.call("POST", "/pause?database=prod&wait_ms=1000");
                Thread held = new Thread(() -> {
                    try {
                        st.execute("INSERT INTO orders (customer_id, note) VALUES (100, 'held')");
                    } catch (SQLException e) {
                        throw new IllegalStateException(e);
                    }
                });
                held.start();
                while (new Scrape(scrape(proxy).body()).sum("pgreshard_proxy_clients_held", "") < 1) {
                    Thread.sleep(10);
                }
                Thread.sleep(100);
                control.call("POST", "/resume?database=prod");
                held.join(10_000);
                assertEquals(200, control.call("POST", "/routing/swap?database=prod&cluster=prod_sharded&epoch=1").statusCode());
                for (int i = 0; i < 20; i++) {
                    st.execute("INSERT INTO orders (customer_id, note) VALUES (" + (1000 + i) + ", 'after the swap')");
                }
            }
            assertThrows(SQLException.class, () -> proxy.connect("prod", ProxyFixture.USER, "wrong", new Properties()).close());

            Scrape after = new Scrape(scrape(proxy).body());
            assertTrue(after.sum("pgreshard_proxy_connections_total", "") >= before.sum("pgreshard_proxy_connections_total", "") + 2);
            assertTrue(after.sum("pgreshard_proxy_logins_total", "") >= before.sum("pgreshard_proxy_logins_total", "") + 1);
            assertTrue(after.sum("pgreshard_proxy_queries_total", "cluster=\"prod\",database=\"prod\",shard=\"0\"")
                    >= before.sum("pgreshard_proxy_queries_total", "cluster=\"prod\",database=\"prod\",shard=\"0\"") + 12,
                    after.lines("pgreshard_proxy_queries_total"));
            double shard0After = after.sum("pgreshard_proxy_queries_total", "cluster=\"prod_sharded\",database=\"prod\",shard=\"0\"");
            double shard1After = after.sum("pgreshard_proxy_queries_total", "cluster=\"prod_sharded\",database=\"prod\",shard=\"1\"");
            assertTrue(shard0After >= 1 && shard1After >= 1 && shard0After + shard1After >= 20,
                    "after the swap the inserts spread over both shards: " + after.lines("pgreshard_proxy_queries_total"));
            assertTrue(after.sum("pgreshard_proxy_errors_total", "kind=\"query\"")
                    >= before.sum("pgreshard_proxy_errors_total", "kind=\"query\"") + 1, after.lines("pgreshard_proxy_errors_total"));
            assertTrue(after.sum("pgreshard_proxy_errors_total", "kind=\"authentication\"")
                    >= before.sum("pgreshard_proxy_errors_total", "kind=\"authentication\"") + 1, after.lines("pgreshard_proxy_errors_total"));
            assertTrue(after.sum("pgreshard_proxy_routing_swaps_total", "") >= before.sum("pgreshard_proxy_routing_swaps_total", "") + 1);
            assertTrue(after.sum("pgreshard_proxy_pause_held_seconds_count", "database=\"prod\"") >= 1,
                    after.lines("pgreshard_proxy_pause_held_seconds"));
            assertTrue(after.sum("pgreshard_proxy_pause_held_seconds_sum", "database=\"prod\"") >= 0.1,
                    "the held transaction waited ~100 ms: " + after.lines("pgreshard_proxy_pause_held_seconds"));
            assertTrue(after.has("pgreshard_proxy_pause_held_seconds_bucket"), "a histogram with buckets");
            assertEquals(0, after.sum("pgreshard_proxy_clients_held", ""));
            assertTrue(!after.text.contains(ProxyFixture.PASSWORD) && !after.text.contains(ProxyFixture.ADMIN_PASSWORD));

            // the proxy's own counters stay available as JSON, behind the admin credentials
            assertEquals(401, new ControlClient(proxy.controlPort(), "admin", "wrong").call("GET", "/metrics.json").statusCode());
            HttpResponse<String> json = control.call("GET", "/metrics.json");
            assertTrue(json.body().contains("\"routing_swaps\":1"), json.body());
        }
    }

    /**
     * The meters a switch records into exist once it is prepared, before anyone is paused: registering
     * the first timer of a JVM took ≈ 50 ms of the event loop at the first release from the gate. A
     * database of its own, so that no other test of this JVM registered them first.
     */
    @Test
    void aPreparedSwitchRegistersItsMetersBeforeThePause(TestDatabase source, TestDatabase shard0, TestDatabase shard1)
            throws Exception {
        for (TestDatabase d : new TestDatabase[] {source, shard0, shard1}) {
            d.execute("CREATE TABLE orders (customer_id bigint NOT NULL, note text)");
        }
        try (ProxyFixture proxy = new ProxyFixture().cluster("warmmeters", source).cluster("warmmeters_sharded", shard0, shard1)
                .shardedTable("warmmeters_sharded", "orders", "customer_id", "bigint").start();
             Connection c = proxy.connect("warmmeters"); Statement st = c.createStatement()) {
            st.execute("INSERT INTO orders (customer_id, note) VALUES (1, 'x')");
            String held = "pgreshard_proxy_pause_held_seconds_count{database=\"warmmeters\"}";
            String shard1Queries = "pgreshard_proxy_queries_total{cluster=\"warmmeters_sharded\",database=\"warmmeters\",shard=\"1\"}";
            String before = scrape(proxy).body();
            assertTrue(!before.contains(held) && !before.contains(shard1Queries), "nothing registered yet:\n" + before);

            ControlClient control = new ControlClient(proxy.controlPort(), ProxyFixture.ADMIN_USER, ProxyFixture.ADMIN_PASSWORD);
            assertEquals(200, control.call("POST", "/routing/prepare?database=warmmeters&cluster=warmmeters_sharded&epoch=1")
                    .statusCode());
            Scrape prepared = new Scrape(scrape(proxy).body());
            assertTrue(prepared.text().contains(held + " 0"), prepared.lines("pgreshard_proxy_pause_held_seconds"));
            assertTrue(prepared.text().contains(shard1Queries + " 0"), prepared.lines("pgreshard_proxy_queries_total"));
            control.call("POST", "/routing/discard?database=warmmeters");
        }
    }

    private static HttpResponse<String> scrape(ProxyFixture proxy) throws Exception {
        HttpRequest req = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + proxy.controlPort() + "/metrics")).build();
        return HttpClient.newHttpClient().send(req, HttpResponse.BodyHandlers.ofString());
    }

    /** A Prometheus text exposition, queried by metric name and label text. */
    record Scrape(String text) {
        boolean has(String name) {
            return text.lines().anyMatch(l -> l.startsWith(name + " ") || l.startsWith(name + "{"));
        }

        /** Sum of the samples of {@code name} whose label set contains {@code labels}. */
        double sum(String name, String labels) {
            return text.lines().filter(l -> (l.startsWith(name + " ") || l.startsWith(name + "{")) && l.contains(labels))
                    .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1))).sum();
        }

        String lines(String prefix) {
            return String.join("\n", text.lines().filter(l -> l.startsWith(prefix)).toList());
        }
    }
}
