package dev.pgreshard.proxy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.pgreshard.testkit.PostgresExtension;
import dev.pgreshard.testkit.TestDatabase;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.net.http.HttpResponse;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The pause gate and routing swaps, driven through the HTTP control API as the cutover will. */
@ExtendWith(PostgresExtension.class)
class PauseAndSwapTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void pauseHoldsNewTransactionsLetsOpenOnesFinishAndResumeReleasesThem(TestDatabase db) throws Exception {
        db.execute("CREATE TABLE counter (id int PRIMARY KEY, n bigint)", "INSERT INTO counter VALUES (1, 0)",
                "CREATE TABLE log (client int, at timestamptz DEFAULT now())");
        try (ProxyFixture proxy = new ProxyFixture().cluster("prod", db).start()) {
            ControlClient control = new ControlClient(proxy.controlPort(), ProxyFixture.ADMIN_USER, ProxyFixture.ADMIN_PASSWORD);
            assertEquals(401, new ControlClient(proxy.controlPort(), "admin", "wrong").call("POST", "/pause").statusCode());

            // a transaction open before the pause runs to its end
            Connection open = proxy.connect("prod");
            open.setAutoCommit(false);
            open.createStatement().execute("INSERT INTO log (client) VALUES (-1)");

            AtomicBoolean stop = new AtomicBoolean();
            AtomicReference<Throwable> failure = new AtomicReference<>();
            AtomicLong done = new AtomicLong();
            List<Thread> clients = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                int id = i;
                Thread t = new Thread(() -> {
                    Properties p = new Properties();
                    p.setProperty("preferQueryMode", id % 2 == 0 ? "extended" : "simple");
                    try (Connection c = proxy.connect("prod", ProxyFixture.USER, ProxyFixture.PASSWORD, p)) {
                        c.setAutoCommit(false);
                        try (PreparedStatement ins = c.prepareStatement("INSERT INTO log (client) VALUES (?)");
                             PreparedStatement upd = c.prepareStatement("UPDATE counter SET n = n + 1 WHERE id = 1")) {
                            while (!stop.get()) {
                                ins.setInt(1, id);
                                ins.executeUpdate();
                                upd.executeUpdate();
                                c.commit();
                                done.incrementAndGet();
                            }
                        }
                    } catch (Throwable e) {
                        failure.set(e);
                    }
                });
                t.start();
                clients.add(t);
            }
            while (done.get() < 100) {
                Thread.sleep(10);
            }
            JsonNode ack = JSON.readTree(control.call("POST", "/pause?database=prod").body());
            assertTrue(ack.get("paused").asBoolean());
            assertTrue(ack.get("in_flight").asInt() >= 1, "the open transaction is in flight: " + ack);
            JsonNode notDrained = JSON.readTree(control.call("POST", "/pause?database=prod&wait_ms=300").body());
            assertEquals(1, notDrained.get("in_flight").asInt(), "only the open transaction remains: " + notDrained);
            open.commit(); // finishing it is allowed while paused
            JsonNode drained = JSON.readTree(control.call("POST", "/pause?database=prod&wait_ms=2000").body());
            assertEquals(0, drained.get("in_flight").asInt(), drained.toString());
            long heldAt = db.queryLong("SELECT n FROM counter");
            Thread.sleep(500);
            assertEquals(heldAt, db.queryLong("SELECT n FROM counter"), "no transaction may run while paused");
            assertEquals(4, JSON.readTree(control.call("GET", "/status?database=prod").body()).get("waiting").asInt());
            assertEquals(200, control.call("POST", "/resume?database=prod").statusCode());
            long resumedAt = done.get();
            while (done.get() < resumedAt + 100) {
                Thread.sleep(10);
            }
            stop.set(true);
            for (Thread t : clients) {
                t.join();
            }
            open.close();
            assertNull(failure.get(), () -> "a paused client saw an error: " + failure.get());
            assertEquals(db.queryLong("SELECT count(*) FROM log WHERE client >= 0"), db.queryLong("SELECT n FROM counter"));
        }
    }

    @Test
    void routingSwapMovesClientsAtTheirNextTransactionWithPreparedStatements(TestDatabase source, TestDatabase shard0,
                                                                              TestDatabase shard1) throws Exception {
        for (TestDatabase d : new TestDatabase[] {source, shard0, shard1}) {
            d.execute("CREATE TABLE orders (customer_id bigint NOT NULL, note text)");
        }
        try (ProxyFixture proxy = new ProxyFixture().cluster("prod", source).cluster("prod_sharded", shard0, shard1)
                .shardedTable("prod_sharded", "orders", "customer_id", "bigint").start()) {
            ControlClient control = new ControlClient(proxy.controlPort(), ProxyFixture.ADMIN_USER, ProxyFixture.ADMIN_PASSWORD);
            Properties p = new Properties();
            p.setProperty("prepareThreshold", "1");
            try (Connection c = proxy.connect("prod", ProxyFixture.USER, ProxyFixture.PASSWORD, p);
                 PreparedStatement ins = c.prepareStatement("INSERT INTO orders (customer_id, note) VALUES (?, ?)");
                 PreparedStatement sel = c.prepareStatement("SELECT current_database(), count(*) FROM orders WHERE customer_id = ?")) {
                for (int i = 1; i <= 5; i++) {
                    ins.setLong(1, i);
                    ins.setString(2, "before");
                    ins.executeUpdate();
                }
                assertEquals(source.name(), database(sel, 1));
                try (Statement st = c.createStatement()) {
                    st.execute("SET application_name = 'before the swap'");
                }
                assertEquals(400, control.call("POST", "/routing/swap?database=prod&cluster=prod_sharded&epoch=0").statusCode());
                assertEquals(400, control.call("POST", "/routing/swap?database=prod&cluster=nope&epoch=1").statusCode());
                control.call("POST", "/pause?database=prod&wait_ms=1000");
                HttpResponse<String> swap = control.call("POST", "/routing/swap?database=prod&cluster=prod_sharded&epoch=1");
                assertEquals(200, swap.statusCode(), swap.body());
                control.call("POST", "/resume?database=prod");
                for (int i = 1; i <= 20; i++) { // the same prepared statements, now on two shards
                    ins.setLong(1, i);
                    ins.setString(2, "after");
                    ins.executeUpdate();
                }
                try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SHOW application_name")) {
                    rs.next();
                    assertEquals("before the swap", rs.getString(1), "session settings follow the client to the new shards");
                }
                String db7 = database(sel, 7);
                assertTrue(db7.equals(shard0.name()) || db7.equals(shard1.name()), db7);
                try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT count(*) FROM orders")) {
                    long total = 0;
                    while (rs.next()) {
                        total += rs.getLong(1);
                    }
                    assertEquals(20, total);
                }
                // and back (a rollback of the cutover): one shard again, same prepared statements
                assertEquals(200, control.call("POST", "/routing/swap?database=prod&cluster=prod&epoch=2").statusCode());
                ins.setLong(1, 99);
                ins.setString(2, "rolled back");
                ins.executeUpdate();
                assertEquals(source.name(), database(sel, 99));
            }
            assertEquals(6, source.queryLong("SELECT count(*) FROM orders"));
            ShardedRoutingTest.assertPlacement(shard0, shard1, 20);
            JsonNode routing = JSON.readTree(control.call("GET", "/routing").body());
            assertEquals("prod", routing.get(0).get("cluster").asText());
            assertEquals(2, routing.get(0).get("epoch").asInt());
            JsonNode metrics = JSON.readTree(control.call("GET", "/metrics.json").body());
            assertEquals(2, metrics.get("routing_swaps").asInt(), metrics.toString());
            assertTrue(metrics.get("logins").asInt() >= 1, metrics.toString());
        }
    }

    @Test
    void aPauseWithALeaseEndsByItselfOnceTheRoutesAreConfirmed(TestDatabase db) throws Exception {
        try (ProxyFixture proxy = new ProxyFixture().cluster("prod", db).start()) {
            ControlClient control = new ControlClient(proxy.controlPort(), ProxyFixture.ADMIN_USER, ProxyFixture.ADMIN_PASSWORD);
            assertEquals(400, control.call("POST", "/pause?database=prod&lease_ms=-1").statusCode());

            // the worker that paused dies: the lease ends the pause, but only once the routes are confirmed
            AtomicLong asked = new AtomicLong();
            AtomicBoolean storeReachable = new AtomicBoolean(false);
            proxy.server().control().onLeaseExpiry(database -> {
                asked.incrementAndGet();
                return storeReachable.get();
            });
            JsonNode ack = JSON.readTree(control.call("POST", "/pause?database=prod&lease_ms=200").body());
            assertTrue(ack.get("paused").asBoolean());
            Thread.sleep(600);
            assertTrue(asked.get() >= 1, "the lease expiry asked whether it may resume");
            assertTrue(proxy.server().control().status("prod").paused(), "routes unconfirmed: stays paused");
            storeReachable.set(true);
            long deadline = System.currentTimeMillis() + 5000;
            while (proxy.server().control().status("prod").paused() && System.currentTimeMillis() < deadline) {
                Thread.sleep(50);
            }
            assertTrue(!proxy.server().control().status("prod").paused(), "resumed once the routes were confirmed");

            // a resume before the lease ends cancels it: a later pause is not ended by the old lease
            control.call("POST", "/pause?database=prod&lease_ms=300");
            control.call("POST", "/resume?database=prod");
            control.call("POST", "/pause?database=prod");
            long before = asked.get();
            Thread.sleep(600);
            assertEquals(before, asked.get(), "the cancelled lease did not fire");
            assertTrue(proxy.server().control().status("prod").paused(), "an operator's pause has no lease");
            control.call("POST", "/resume?database=prod");
        }
    }

    private static String database(PreparedStatement sel, long key) throws Exception {
        sel.setLong(1, key);
        try (ResultSet rs = sel.executeQuery()) {
            rs.next();
            return rs.getString(1);
        }
    }
}
