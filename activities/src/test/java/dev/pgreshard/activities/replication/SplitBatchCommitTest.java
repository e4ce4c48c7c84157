package dev.pgreshard.activities.replication;

import dev.pgreshard.activities.replication.ProgressTable.Progress;
import dev.pgreshard.core.pg.Lsn;
import dev.pgreshard.core.sharding.ShardFunction;
import dev.pgreshard.core.sharding.ShardKeyType;
import dev.pgreshard.testkit.PostgresExtension;
import dev.pgreshard.testkit.TestDatabase;
import dev.pgreshard.workflows.replication.Direction;
import dev.pgreshard.workflows.replication.ReplicationRequest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.sql.Connection;
import java.sql.Statement;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * One batch (one destination transaction per shard) that commits on shard 0 and is lost on shard 1
 * — the stream dies between the two shards' commits — is applied exactly once everywhere after a
 * restart: shard 0 skips it (its progress row is past it), shard 1 applies it, the slot was never
 * confirmed past what both had. The ledger table has no key, so a change applied twice would show
 * up as an extra row.
 */
@ExtendWith(PostgresExtension.class)
class SplitBatchCommitTest {
    private static final int ROWS = 200;

    @Test
    void aBatchCommittedOnOneShardOnlyIsAppliedOnceEverywhereAfterARestart(TestDatabase src, TestDatabase d0, TestDatabase d1)
            throws Exception {
        ReplicationTestCluster t = new ReplicationTestCluster(src, d0, d1, "ledger", "customer_id");
        t.createEverywhere("CREATE TABLE ledger (seq bigint, customer_id bigint, note text)",
                "ALTER TABLE ledger REPLICA IDENTITY FULL");
        t.publish("ledger");
        ReplicationRequest request = t.request();
        t.slots().createSlots(t.endpoints(request));
        src.execute("INSERT INTO ledger SELECT g, g, 'batch' FROM generate_series(1, " + ROWS + ") g");
        ShardFunction fn = new ShardFunction(ShardKeyType.BIGINT, 2);
        long onShard0 = 0;
        for (int i = 1; i <= ROWS; i++) {
            onShard0 += fn.shardOfText(Integer.toString(i)) == 0 ? 1 : 0;
        }
        assertTrue(onShard0 > 0 && onShard0 < ROWS, "the batch must touch both shards");

        try (Connection lock = d1.connect(); Statement s = lock.createStatement()) {
            lock.setAutoCommit(false);
            s.execute("LOCK TABLE ledger IN EXCLUSIVE MODE"); // shard 1's apply waits at its first row
            ReplicationRunner first = t.runner(request);
            first.start();
            long expected0 = onShard0;
            await(() -> d0.queryLong("SELECT count(*) FROM ledger") == expected0, "shard 0 to commit the batch", first);
            await(() -> d1.queryLong("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                    + " AND wait_event_type = 'Lock'") == 1, "shard 1's apply to wait for the lock", first);
            // the stream dies while shard 1 is inside the batch that shard 0 has committed
            d1.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database()"
                    + " AND wait_event_type = 'Lock'");
            assertThrows(Exception.class, first::awaitTermination);
            lock.rollback();
        }
        Progress p0;
        Progress p1;
        try (Connection c0 = d0.connect(); Connection c1 = d1.connect()) {
            p0 = ProgressTable.read(c0, t.task.taskId(), Direction.FORWARD, 0);
            p1 = ProgressTable.read(c1, t.task.taskId(), Direction.FORWARD, 0);
        }
        assertTrue(p0.commitLsn().isAfter(p1.commitLsn()), "shard 0 " + p0 + " must be past shard 1 " + p1);
        assertEquals(0, d1.queryLong("SELECT count(*) FROM ledger"), "shard 1 committed nothing");
        Lsn confirmed = Lsn.parse(src.queryRows("SELECT confirmed_flush_lsn::text FROM pg_replication_slots WHERE slot_name = '"
                + t.task.forwardSlot(0) + "'").get(0).get(0));
        assertTrue(confirmed.isBefore(p0.endLsn()), "slot confirmed to " + confirmed + " although shard 1 lacks the batch");

        src.execute("INSERT INTO ledger SELECT g, g, 'after' FROM generate_series(" + (ROWS + 1) + ", " + (ROWS + 20) + ") g");
        ReplicationRunner second = t.runner(request);
        second.start();
        t.awaitApplied(second);
        second.stop();
        second.awaitTermination();
        assertEquals(ROWS + 20, d0.queryLong("SELECT count(*) FROM ledger") + d1.queryLong("SELECT count(*) FROM ledger"));
        t.assertSame("ledger", "customer_id", "seq, note");
        t.slots().dropSlots(t.endpoints(request));
        t.assertNoSlot();
    }

    private static void await(BooleanSupplier condition, String what, ReplicationRunner runner) throws InterruptedException {
        long deadline = System.currentTimeMillis() + 30_000;
        while (!condition.getAsBoolean()) {
            if (runner.failure() != null) {
                throw new AssertionError("replication failed while waiting for " + what, runner.failure());
            }
            if (System.currentTimeMillis() > deadline) {
                fail("timed out waiting for " + what + ": " + runner.status());
            }
            Thread.sleep(20);
        }
    }
}
