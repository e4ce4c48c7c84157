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
        long until = System.currentTimeMillis() + 10_000;
        while (src.queryLong("SELECT count(*) FROM pg_replication_slots WHERE active AND slot_name = '"
                + t.task.forwardSlot(0) + "'") > 0) {
            assertTrue(System.currentTimeMillis() < until, "the slot is still in use after cancellation");
            Thread.sleep(50);
        }
        ReplicationStatus status = activities.status(request);
        assertTrue(!status.positions().get(0).appliedLsn().isBefore(target), status.toString());
        activities.dropSlots(request);
        activities.dropSlots(request);
        t.assertNoSlot();
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
