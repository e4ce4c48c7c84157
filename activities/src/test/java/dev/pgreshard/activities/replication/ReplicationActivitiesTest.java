package dev.pgreshard.activities.replication;

import dev.pgreshard.testkit.PostgresExtension;
import dev.pgreshard.testkit.TestDatabase;
import dev.pgreshard.workflows.copy.ShardSnapshot;
import dev.pgreshard.workflows.replication.ReplicationActivities;
import dev.pgreshard.workflows.replication.ReplicationRequest;
import dev.pgreshard.workflows.replication.ReplicationStatus;
import io.temporal.activity.ActivityOptions;
import io.temporal.common.RetryOptions;
import io.temporal.failure.ActivityFailure;
import io.temporal.failure.ApplicationFailure;
import io.temporal.failure.CanceledFailure;
import io.temporal.testing.TestActivityEnvironment;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/** The activity under Temporal's test activity environment: heartbeats, cancellation, non-retryable drift. */
@ExtendWith(PostgresExtension.class)
class ReplicationActivitiesTest {
    private TestActivityEnvironment env;

    @BeforeEach
    void setUp() {
        env = TestActivityEnvironment.newInstance();
    }

    @AfterEach
    void tearDown() {
        env.close();
    }

    private ReplicationActivities stub(ReplicationTestCluster t) {
        env.registerActivitiesImplementations(new ReplicationActivitiesImpl(t.config, t.connector, ReplicationTestCluster.FAST, 100));
        return env.newActivityStub(ReplicationActivities.class, ActivityOptions.newBuilder()
                .setStartToCloseTimeout(Duration.ofMinutes(2)).setHeartbeatTimeout(Duration.ofSeconds(2))
                .setRetryOptions(RetryOptions.newBuilder().setMaximumAttempts(1).build()).build());
    }

    @Test
    void replicateHeartbeatsItsPositionAndStopsPromptlyWhenCancelled(TestDatabase src, TestDatabase d0, TestDatabase d1)
            throws Exception {
        ReplicationTestCluster t = new ReplicationTestCluster(src, d0, d1, "orders", "customer_id");
        t.createEverywhere(ReplicationStreamTest.ORDERS);
        t.publish("orders");
        ReplicationActivities activities = stub(t);
        ReplicationRequest request = t.request();
        List<ShardSnapshot> slots = activities.createSlots(request);
        assertEquals(1, slots.size());

        List<ReplicationStatus> beats = new CopyOnWriteArrayList<>();
        env.setActivityHeartbeatListener(ReplicationStatus.class, beats::add);
        CompletableFuture<Void> run = CompletableFuture.runAsync(() -> activities.replicate(request));
        src.execute("INSERT INTO orders SELECT g, g, 1, 'x' FROM generate_series(1, 500) g");
        var target = t.sourceWalLsn();
        long deadline = System.currentTimeMillis() + 30_000;
        while (beats.stream().noneMatch(b -> !b.positions().get(0).appliedLsn().isBefore(target))) {
            if (System.currentTimeMillis() > deadline || run.isDone()) {
                fail("no heartbeat reported the applied position " + target + ": " + beats + (run.isDone() ? " (ended)" : ""));
            }
            Thread.sleep(50);
        }
        assertEquals(500, d0.queryLong("SELECT count(*) FROM orders") + d1.queryLong("SELECT count(*) FROM orders"));

        env.requestCancelActivity();
        long cancelledAt = System.nanoTime();
        try {
            run.get(15, TimeUnit.SECONDS);
            fail("replicate returned normally after cancellation");
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            assertTrue(cause instanceof ActivityFailure || cause instanceof CanceledFailure
                    || cause.getClass().getSimpleName().contains("Cancel"), "unexpected: " + cause);
        }
        System.err.println("replicate ended " + (System.nanoTime() - cancelledAt) / 1_000_000 + " ms after the cancel request");
        // the stream's walsender is gone: nothing holds the slot any more
        assertEquals(0, src.awaitLong("SELECT count(*) FROM pg_replication_slots WHERE active AND slot_name = '"
                + t.task.forwardSlot(0) + "'", 0, 10_000), "the slot is still in use after cancellation");
        ReplicationStatus status = activities.status(request);
        assertTrue(!status.positions().get(0).appliedLsn().isBefore(target), status.toString());
        activities.dropSlots(request);
        activities.dropSlots(request);
        t.assertNoSlot();
    }

    /**
     * Issue 17: {@code lagBytes} in the heartbeats was 0 while the stream was megabytes behind. A real
     * backlog: both destination shards hold an exclusive lock on the table, so nothing can be applied,
     * while the source writes a few megabytes. Every heartbeat after the writes must report at least the
     * WAL written since the lock (nothing of it is applied), and {@code status} (what SHOW TASKS and
     * {@code pgreshard status} read) must agree; once the locks go, both fall back to (almost) nothing.
     */
    @Test
    void heartbeatsReportTheBacklogInBytes(TestDatabase src, TestDatabase d0, TestDatabase d1) throws Exception {
        ReplicationTestCluster t = new ReplicationTestCluster(src, d0, d1, "orders", "customer_id");
        t.createEverywhere(ReplicationStreamTest.ORDERS);
        t.publish("orders");
        ReplicationActivities activities = stub(t);
        ReplicationRequest request = t.request();
        activities.createSlots(request);
        List<ReplicationStatus> beats = new CopyOnWriteArrayList<>();
        env.setActivityHeartbeatListener(ReplicationStatus.class, beats::add);
        CompletableFuture<Void> run = CompletableFuture.runAsync(() -> activities.replicate(request));
        src.execute("INSERT INTO orders VALUES (0, 0, 1, 'before')");
        var first = t.sourceWalLsn();
        awaitHeartbeat(beats, run, b -> !b.positions().get(0).appliedLsn().isBefore(first), "caught up before the backlog");

        try (java.sql.Connection l0 = d0.connect(); java.sql.Connection l1 = d1.connect()) {
            for (java.sql.Connection l : List.of(l0, l1)) {
                l.setAutoCommit(false);
                l.createStatement().execute("LOCK TABLE orders IN ACCESS EXCLUSIVE MODE");
            }
            // the stream reads the first transaction and blocks committing it on the locked shards
            src.execute("INSERT INTO orders VALUES (-1, -1, 1, 'first')");
            Thread.sleep(1000);
            var before = t.sourceWalLsn();
            for (int i = 0; i < 40; i++) { // 40 transactions of ~100 kB each
                src.execute("INSERT INTO orders SELECT g, g, 1, repeat('x', 200) FROM generate_series("
                        + (1 + i * 400) + ", " + (i + 1) * 400 + ") g");
            }
            var after = t.sourceWalLsn();
            long written = after.bytesAfter(before);
            assertTrue(written > 1_000_000, "the backlog is only " + written + " bytes");
            int seen = beats.size();
            // two heartbeats (sent at most every 0.8 × the heartbeat timeout) while nothing can be applied
            long until = System.currentTimeMillis() + 20_000;
            while (beats.size() < seen + 2) {
                assertTrue(System.currentTimeMillis() < until && !run.isDone(), "no heartbeats: " + beats);
                Thread.sleep(50);
            }
            List<ReplicationStatus> later = List.copyOf(beats.subList(seen, beats.size()));
            ReplicationStatus last = later.get(later.size() - 1);
            assertTrue(last.lagBytes() >= written, "the last heartbeat reports " + last.lagBytes()
                    + " bytes of lag while " + written + " bytes of WAL wait behind locked shards: " + last);
            // what the status activity reads (the test environment runs one activity at a time)
            ReplicationStatus status = new StatusReader(t.connector).read(t.endpoints(request));
            assertTrue(status.lagBytes() >= written, "status reports " + status.lagBytes() + " bytes of lag while "
                    + written + " bytes wait: " + status);
            assertTrue(Math.abs(status.lagBytes() - last.lagBytes()) <= written / 10,
                    "heartbeat " + last.lagBytes() + " and status " + status.lagBytes() + " disagree");
            assertTrue(last.lagSeconds() > 0, "lag in seconds is 0 while nothing is applied: " + last);
            for (java.sql.Connection l : List.of(l0, l1)) {
                l.rollback();
            }
        }
        var target = t.sourceWalLsn();
        awaitHeartbeat(beats, run, b -> !b.positions().get(0).appliedLsn().isBefore(target), "applied the backlog");
        assertEquals(16_002, d0.queryLong("SELECT count(*) FROM orders") + d1.queryLong("SELECT count(*) FROM orders"));
        ReplicationStatus caughtUp = beats.get(beats.size() - 1);
        assertTrue(caughtUp.lagBytes() < 100_000, "still lagging after the backlog was applied: " + caughtUp);
        env.requestCancelActivity();
        try {
            run.get(15, TimeUnit.SECONDS);
        } catch (ExecutionException expected) {
            // cancelled
        }
        activities.dropSlots(request);
        t.assertNoSlot();
    }

    private static void awaitHeartbeat(List<ReplicationStatus> beats, CompletableFuture<Void> run,
                                       java.util.function.Predicate<ReplicationStatus> condition, String what)
            throws InterruptedException {
        long deadline = System.currentTimeMillis() + 60_000;
        while (beats.isEmpty() || !condition.test(beats.get(beats.size() - 1))) {
            if (System.currentTimeMillis() > deadline || run.isDone()) {
                fail("no heartbeat " + what + ": " + (beats.isEmpty() ? "none" : beats.get(beats.size() - 1))
                        + (run.isDone() ? " (replicate ended)" : ""));
            }
            Thread.sleep(50);
        }
    }

    @Test
    void schemaDriftFailsNonRetryably(TestDatabase src, TestDatabase d0, TestDatabase d1) {
        ReplicationTestCluster t = new ReplicationTestCluster(src, d0, d1, "orders", "customer_id");
        t.createEverywhere(ReplicationStreamTest.ORDERS);
        d1.execute("ALTER TABLE orders DROP COLUMN note");
        t.publish("orders");
        ReplicationActivities activities = stub(t);
        ReplicationRequest request = t.request();
        activities.createSlots(request);
        src.execute("INSERT INTO orders VALUES (1, 1, 1, 'x')");
        ActivityFailure failure = org.junit.jupiter.api.Assertions.assertThrows(ActivityFailure.class,
                () -> activities.replicate(request));
        ApplicationFailure app = assertInstanceOf(ApplicationFailure.class, failure.getCause());
        assertTrue(app.isNonRetryable());
        assertEquals(ReplicationActivitiesImpl.SCHEMA_DRIFT, app.getType());
        assertTrue(app.getOriginalMessage().contains("\"note\"") && app.getOriginalMessage().contains("dst shard 1"),
                app.getOriginalMessage());
        activities.dropSlots(request);
        t.assertNoSlot();
    }
}
