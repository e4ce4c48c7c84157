package dev.pgreshard.proxy;

import dev.pgreshard.testkit.PostgresExtension;
import dev.pgreshard.testkit.TestDatabase;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Many pause → drain → swap → resume cycles between a one-shard and a two-shard cluster while
 * clients write through the proxy, the way repeated cutovers and rollbacks move them (each switch
 * changes the session's handler). Every pause must drain: a session whose in-flight accounting
 * leaked across a switch would keep every later cutover from draining.
 */
@ExtendWith(PostgresExtension.class)
class RouteFlipStressTest {
    private static final Logger LOG = LoggerFactory.getLogger(RouteFlipStressTest.class);
    private static final int FLIPS = Integer.getInteger("pgreshard.flips", 300);

    @Test
    void everyPauseDrainsAcrossManyHandlerChangingSwaps(TestDatabase source, TestDatabase shard0, TestDatabase shard1)
            throws Exception {
        for (TestDatabase d : new TestDatabase[] {source, shard0, shard1}) {
            d.execute("CREATE TABLE items (id bigint NOT NULL, tenant_id bigint NOT NULL, client int NOT NULL, "
                    + "version int NOT NULL DEFAULT 0, PRIMARY KEY (tenant_id, id))");
        }
        try (ProxyFixture proxy = new ProxyFixture().cluster("prod", source).cluster("prod_sharded", shard0, shard1)
                .shardedTable("prod_sharded", "items", "tenant_id", "bigint").start()) {
            ProxyControl control = proxy.server().control();
            AtomicBoolean stop = new AtomicBoolean();
            AtomicReference<Throwable> failure = new AtomicReference<>();
            AtomicLong commits = new AtomicLong();
            List<Thread> clients = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                int client = i;
                Thread t = new Thread(() -> write(proxy, client, stop, commits, failure), "flip-client-" + i);
                t.start();
                clients.add(t);
            }
            try {
                while (commits.get() < 50 && failure.get() == null) {
                    Thread.sleep(10);
                }
                long epoch = 0;
                for (int flip = 1; flip <= FLIPS && failure.get() == null; flip++) {
                    ProxyControl.PauseAck ack = control.pause("prod", 10_000);
                    ack = control.awaitDrained("prod", Duration.ofSeconds(5));
                    assertEquals(0, ack.inFlight(), "flip " + flip + ": the pause did not drain: "
                            + proxy.server().context().sessions().describeBusy("prod"));
                    control.swapRouting("prod", flip % 2 == 1 ? "prod_sharded" : "prod", ++epoch);
                    control.resume("prod");
                    Thread.sleep(ThreadLocalRandom.current().nextInt(5, 40));
                }
                long before = commits.get();
                Thread.sleep(300);
                assertTrue(commits.get() > before, "clients still commit after the last flip");
            } finally {
                stop.set(true);
                control.resume("prod");
                for (Thread t : clients) {
                    t.join(10_000);
                }
            }
            assertNull(failure.get(), () -> "a client failed: " + failure.get());
            LOG.info("{} flips, {} client commits", FLIPS, commits.get());
        }
    }

    private static void write(ProxyFixture proxy, int client, AtomicBoolean stop, AtomicLong commits,
                              AtomicReference<Throwable> failure) {
        Properties p = new Properties();
        p.setProperty("prepareThreshold", client % 2 == 0 ? "1" : "5");
        if (client == 3) {
            p.setProperty("preferQueryMode", "simple");
        }
        try (Connection c = proxy.connect("prod", ProxyFixture.USER, ProxyFixture.PASSWORD, p)) {
            c.setAutoCommit(false);
            try (PreparedStatement ins = c.prepareStatement("INSERT INTO items (id, tenant_id, client) VALUES (?, ?, ?)");
                 PreparedStatement bump = c.prepareStatement("UPDATE items SET version = version + 1 WHERE id = ? AND tenant_id = ?")) {
                long id = client * 1_000_000_000L;
                while (!stop.get()) {
                    id++;
                    long tenant = id % 97;
                    ins.setLong(1, id);
                    ins.setLong(2, tenant);
                    ins.setInt(3, client);
                    ins.executeUpdate();
                    bump.setLong(1, id);
                    bump.setLong(2, tenant);
                    bump.executeUpdate();
                    c.commit();
                    commits.incrementAndGet();
                }
            }
        } catch (SQLException | RuntimeException e) {
            if (!stop.get()) {
                failure.compareAndSet(null, e);
            }
        }
    }
}
