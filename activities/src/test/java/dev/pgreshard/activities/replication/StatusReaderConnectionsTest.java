package dev.pgreshard.activities.replication;

import dev.pgreshard.testkit.PostgresExtension;
import dev.pgreshard.testkit.TestDatabase;
import dev.pgreshard.workflows.replication.ReplicationRequest;
import dev.pgreshard.workflows.replication.ReplicationStatus;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link StatusReader} keeps its connections between reads (no server process start per read), reads on
 * through a server that dropped them, and closes them when closed; checked on the servers' pg_stat_activity.
 */
@ExtendWith(PostgresExtension.class)
class StatusReaderConnectionsTest {

    @Test
    void readsReuseTheirConnectionsSurviveTheirLossAndCloseThem(TestDatabase src, TestDatabase d0, TestDatabase d1)
            throws Exception {
        ReplicationTestCluster t = new ReplicationTestCluster(src, d0, d1, "orders", "customer_id");
        t.createEverywhere(ReplicationStreamTest.ORDERS);
        t.publish("orders");
        ReplicationRequest request = t.request();
        t.slots().createSlots(t.endpoints(request));
        try (StatusReader reader = new StatusReader(t.connector)) {
            ReplicationStatus first = reader.read(t.endpoints(request));
            List<Long> pids = backends(src, d0, d1);
            assertEquals(3, reader.keptConnections());
            assertTrue(pids.stream().allMatch(p -> p > 0), "one kept connection on each server: " + pids);
            for (int i = 0; i < 5; i++) {
                reader.read(t.endpoints(request));
            }
            assertEquals(pids, backends(src, d0, d1), "the same server processes answered every read");

            // the servers end those sessions (a restart, an operator): the next read opens new ones and answers
            for (TestDatabase d : new TestDatabase[] {src, d0, d1}) {
                d.queryLong("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = 'pgreshard'"
                        + " AND datname = current_database() AND pid <> pg_backend_pid()");
            }
            ReplicationStatus after = reader.read(t.endpoints(request));
            assertEquals(first.positions().size(), after.positions().size());
            List<Long> fresh = backends(src, d0, d1);
            assertTrue(fresh.stream().allMatch(p -> p > 0) && !fresh.equals(pids), pids + " then " + fresh);

            reader.close();
            assertEquals(0, reader.keptConnections());
            long deadline = System.currentTimeMillis() + 5000;
            List<Long> left = backends(src, d0, d1);
            while (!left.equals(List.of(0L, 0L, 0L)) && System.currentTimeMillis() < deadline) {
                Thread.sleep(20); // a closed connection's server process leaves pg_stat_activity when it has exited
                left = backends(src, d0, d1);
            }
            assertEquals(List.of(0L, 0L, 0L), left, "closed on every server");
        } finally {
            t.slots().dropSlots(t.endpoints(request));
        }
    }

    /** Per server, the pid of pgreshard's one connection to the test database (0 when none; fails on several). */
    private static List<Long> backends(TestDatabase... dbs) {
        List<Long> pids = new java.util.ArrayList<>();
        for (TestDatabase d : dbs) {
            // a terminated backend leaves pg_stat_activity when it exits: wait for that briefly
            long deadline = System.currentTimeMillis() + 5000;
            long n;
            do {
                n = d.queryLong("SELECT count(*) FROM pg_stat_activity WHERE application_name = 'pgreshard'"
                        + " AND datname = current_database() AND pid <> pg_backend_pid()");
            } while (n > 1 && System.currentTimeMillis() < deadline);
            assertTrue(n <= 1, n + " pgreshard connections on " + d.name());
            pids.add(n == 0 ? 0 : d.queryLong("SELECT pid FROM pg_stat_activity WHERE application_name = 'pgreshard'"
                    + " AND datname = current_database() AND pid <> pg_backend_pid()"));
        }
        return pids;
    }
}
