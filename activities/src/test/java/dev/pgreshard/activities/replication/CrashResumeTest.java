package dev.pgreshard.activities.replication;

import dev.pgreshard.core.pg.Lsn;
import dev.pgreshard.testkit.ChildJvm;
import dev.pgreshard.testkit.PostgresExtension;
import dev.pgreshard.testkit.TestDatabase;
import dev.pgreshard.workflows.replication.ReplicationRequest;
import dev.pgreshard.workflows.replication.ReplicationStatus;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.sql.Connection;
import java.sql.Statement;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Kills the replicating process (SIGKILL, separate JVM) several times under a write load and
 * restarts it: the destination ends equal to the source — no lost and no duplicated row (the
 * ledger table has no key, so a change applied twice would show up as an extra row).
 */
@ExtendWith(PostgresExtension.class)
class CrashResumeTest {

    @Test
    void sigkilledReplicatorResumesWithoutLosingOrRepeatingAChange(TestDatabase src, TestDatabase d0, TestDatabase d1)
            throws Exception {
        ReplicationTestCluster t = new ReplicationTestCluster(src, d0, d1, "orders", "customer_id", "ledger", "customer_id");
        t.createEverywhere(ReplicationStreamTest.ORDERS, "CREATE TABLE ledger (seq bigint, customer_id bigint, note text)",
                "ALTER TABLE ledger REPLICA IDENTITY FULL");
        t.publish("orders, ledger");
        ReplicationRequest request = t.request();
        t.slots().createSlots(t.endpoints(request));

        AtomicBoolean stop = new AtomicBoolean();
        AtomicLong txs = new AtomicLong();
        Thread writer = new Thread(() -> write(src, stop, txs), "writer");
        writer.start();
        List<String> args = List.of(t.configFile.toString(), t.task.taskId(), "src", "dst", "pub");
        Random rnd = new Random(7);
        int kills = 0;
        for (int round = 0; round < 4; round++) {
            long before = applied(d0, d1);
            ChildJvm child = ChildJvm.start(ReplicatorMain.class.getName(), List.of("-Xmx256m"), args);
            try {
                // kill it while it streams: once it has applied something new, at a random moment after
                long deadline = System.currentTimeMillis() + 60_000;
                while (applied(d0, d1) <= before) {
                    assertTrue(child.isAlive(), "replicator died by itself:\n" + child.output());
                    assertTrue(System.currentTimeMillis() < deadline, "replicator applied nothing in 60 s:\n" + child.output());
                    Thread.sleep(20);
                }
                Thread.sleep(rnd.nextInt(700));
                assertTrue(t.slotCount() == 1, "slot missing");
            } finally {
                child.kill();
                kills++;
            }
        }
        stop.set(true);
        writer.join();
        assertTrue(txs.get() > 100, "too few writes: " + txs);

        try (ChildJvm last = ChildJvm.start(ReplicatorMain.class.getName(), List.of("-Xmx256m"), args)) {
            awaitApplied(t, request, last);
        }
        assertEquals(4, kills);
        assertEquals(src.queryLong("SELECT count(*) FROM ledger"),
                d0.queryLong("SELECT count(*) FROM ledger") + d1.queryLong("SELECT count(*) FROM ledger"), "ledger rows");
        t.assertSame("ledger", "customer_id", "seq, note");
        t.assertSame("orders", "customer_id", "id, amount, note");
        t.slots().dropSlots(t.endpoints(request));
        t.assertNoSlot();
    }

    private static long applied(TestDatabase d0, TestDatabase d1) {
        return d0.queryLong("SELECT count(*) FROM ledger") + d1.queryLong("SELECT count(*) FROM ledger");
    }

    private static void write(TestDatabase src, AtomicBoolean stop, AtomicLong txs) {
        Random rnd = new Random(11);
        long seq = 0;
        try (Connection c = src.connect(); Statement s = c.createStatement()) {
            c.setAutoCommit(false);
            while (!stop.get()) {
                seq++;
                long cust = rnd.nextInt(100);
                s.execute("INSERT INTO ledger VALUES (" + seq + ", " + cust + ", 'l" + seq + "')");
                s.execute("INSERT INTO orders VALUES (" + seq + ", " + cust + ", 1, 'o')");
                if (seq % 3 == 0) {
                    s.execute("UPDATE orders SET customer_id = customer_id + 1000 WHERE id = " + (seq - 1));
                }
                if (seq % 5 == 0) {
                    s.execute("DELETE FROM orders WHERE id = " + (seq - 4));
                    s.execute("UPDATE ledger SET note = note || '*' WHERE seq = " + (seq - 2));
                }
                c.commit();
                txs.incrementAndGet();
                if (seq % 20 == 0) {
                    Thread.sleep(2);
                }
            }
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private static void awaitApplied(ReplicationTestCluster t, ReplicationRequest request, ChildJvm child) throws Exception {
        Lsn target = t.sourceWalLsn();
        StatusReader reader = new StatusReader(t.connector);
        long deadline = System.currentTimeMillis() + 60_000;
        ReplicationStatus status = null;
        while (System.currentTimeMillis() < deadline) {
            status = reader.read(t.endpoints(request));
            if (!status.positions().get(0).appliedLsn().isBefore(target)) {
                return;
            }
            if (!child.isAlive()) {
                fail("replicator exited:\n" + child.output());
            }
            Thread.sleep(100);
        }
        fail("not caught up to " + target + ": " + status + "\n" + child.output());
    }
}
