package dev.pgreshard.activities.control;

import dev.pgreshard.core.config.ConfigException;
import dev.pgreshard.core.config.ControlConfig;
import dev.pgreshard.core.config.Secret;
import dev.pgreshard.testkit.FreePorts;
import dev.pgreshard.testkit.PostgresExtension;
import dev.pgreshard.testkit.TestDatabase;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

@ExtendWith(PostgresExtension.class)
class ControlStoreTest {

    private static ControlConfig config(TestDatabase db) {
        return new ControlConfig(db.jdbcUrl(), db.server().superuser(), Secret.of(db.server().password()));
    }

    @Test
    void migratesOnOpenAndKeepsTheRegistry(TestDatabase db) {
        try (ControlStore store = ControlStore.open(config(db))) {
            long first = store.tasks().nextSequence();
            assertEquals(first + 1, store.tasks().nextSequence());
            store.tasks().upsert("reshard-a-b-1", "a", "b", "pub", "COPY", "RUNNING", 0, "");
            store.tasks().upsert("reshard-a-b-1", "a", "b", "pub", "REPLICATING", "RUNNING", 4096, "");
            store.tasks().upsert("reshard-a-c-2", "a", "c", "pub", "DONE", "FINALIZED", 0, "");

            TaskRow row = store.tasks().findById("reshard-a-b-1").orElseThrow();
            assertEquals("REPLICATING", row.phase());
            assertEquals(4096, row.lagBytes());
            assertTrue(!row.updatedAt().isBefore(row.createdAt()));
            assertEquals(List.of("reshard-a-b-1", "reshard-a-c-2"),
                    store.tasks().findAllOrderByCreatedAt().stream().map(TaskRow::taskId).toList());
            assertEquals(1, store.tasks().findBySourceAndDestinationAndPhaseNotInList("a", "b",
                    List.of("DONE", "STOPPED", "FAILED")).size());
            assertTrue(store.tasks().findBySourceAndDestinationAndPhaseNotInList("a", "c",
                    List.of("DONE", "STOPPED", "FAILED")).isEmpty());

            // a failing activity (ActivityProblems): since stays while the same activity fails, the workflow's
            // own upserts leave it alone, and it clears only for that activity
            store.tasks().failing("reshard-a-b-1", "k1", "ReplicationReplicate table t: boom", 1);
            java.time.Instant since = store.tasks().findById("reshard-a-b-1").orElseThrow().failingSince();
            store.tasks().failing("reshard-a-b-1", "k1", "ReplicationReplicate table t: boom again", 2);
            store.tasks().upsert("reshard-a-b-1", "a", "b", "pub", "REPLICATING", "RUNNING", 8192, "");
            TaskRow failing = store.tasks().findById("reshard-a-b-1").orElseThrow();
            assertEquals("ReplicationReplicate table t: boom again", failing.failing());
            assertEquals(2, failing.failingAttempts());
            assertEquals(since, failing.failingSince());
            store.tasks().recovered("reshard-a-b-1", "another activity");
            assertEquals(2, store.tasks().findById("reshard-a-b-1").orElseThrow().failingAttempts());
            store.tasks().recovered("reshard-a-b-1", "k1");
            TaskRow clear = store.tasks().findById("reshard-a-b-1").orElseThrow();
            assertEquals("", clear.failing());
            assertEquals(null, clear.failingSince());
        }
        // a second process opening the same store finds it migrated and keeps the rows
        try (ControlStore again = ControlStore.open(config(db))) {
            assertEquals(2, again.tasks().findAllOrderByCreatedAt().size());
        }
        assertEquals(5, db.queryLong("SELECT count(*) FROM pgreshard_schema_history WHERE success")); // V1, V2, V3, V3_1, V4
    }

    @Test
    void theFirstDecisionOfATransactionWins(TestDatabase db) {
        try (ControlStore store = ControlStore.open(config(db))) {
            DecisionRepository decisions = store.decisions();
            assertEquals(1, decisions.decide("pgreshard_a_1", "commit", "dst shard 0, dst shard 1", "a"));
            assertEquals(0, decisions.decide("pgreshard_a_1", "abort", "dst shard 0", "recovery"));
            assertEquals(1, decisions.decide("pgreshard_a_2", "abort", "dst shard 1", "recovery"));
            assertEquals("commit", decisions.findById("pgreshard_a_1").orElseThrow().decision());
            assertEquals(List.of("pgreshard_a_1", "pgreshard_a_2"),
                    decisions.findAllOrderByDecidedAt().stream().map(DecisionRow::gid).sorted().toList());
            decisions.deleteByGidInList(List.of("pgreshard_a_1", "pgreshard_a_2", "pgreshard_never"));
            assertTrue(decisions.findAllOrderByDecidedAt().isEmpty());
            assertThrows(RuntimeException.class, () -> decisions.decide("pgreshard_a_3", "maybe", "", "a"),
                    "the table accepts only commit and abort");
        }
    }

    @Test
    void decisionsRecordedTogetherKeepTheFirstOneOfEach(TestDatabase db) throws Exception {
        try (ControlStore store = ControlStore.open(config(db)); DecisionWriter writer = store.decisionWriter()) {
            DecisionRepository decisions = store.decisions();
            assertEquals(1, decisions.decide("pgreshard_b_2", "abort", "dst shard 1", "recovery")); // recovery's fence came first
            Set<String> recorded = writer.recordAll(List.of(
                    new DecisionWriter.NewDecision("pgreshard_b_1", "commit", "dst shards 0 1", "b"),
                    new DecisionWriter.NewDecision("pgreshard_b_2", "commit", "dst shards 0 1", "b"),
                    new DecisionWriter.NewDecision("pgreshard_b_3", "commit", "dst shards 0 1", "b")));
            assertEquals(Set.of("pgreshard_b_1", "pgreshard_b_3"), recorded);
            assertEquals("abort", decisions.findById("pgreshard_b_2").orElseThrow().decision());
            assertEquals("commit", decisions.findById("pgreshard_b_3").orElseThrow().decision());
            // the connection is reopened after a failure (here: a decision the table's check refuses)
            assertThrows(java.sql.SQLException.class, () -> writer.recordAll(List.of(
                    new DecisionWriter.NewDecision("pgreshard_b_4", "maybe", "", "b"))));
            assertTrue(decisions.findById("pgreshard_b_4").isEmpty());
            assertEquals(Set.of("pgreshard_b_5"), writer.recordAll(List.of(
                    new DecisionWriter.NewDecision("pgreshard_b_5", "commit", "dst shards 0 1", "b"))));
        }
    }

    @Test
    void switchesOfOneDatabaseNeverOverlap(TestDatabase db) throws Exception {
        try (ControlStore store = ControlStore.open(config(db))) {
            AtomicInteger waitingBeats = new AtomicInteger();
            try (SwitchLock first = store.lockSwitch("app", Duration.ZERO, () -> { }).orElseThrow()) {
                // a second attempt (a retry beside a zombie attempt) waits, heartbeating, then gives up
                Optional<SwitchLock> second = store.lockSwitch("app", Duration.ofMillis(1500), waitingBeats::incrementAndGet);
                assertTrue(second.isEmpty(), "the lock is held");
                assertTrue(waitingBeats.get() >= 1, "the waiting attempt heartbeats");
                // another database switches independently
                try (SwitchLock other = store.lockSwitch("billing", Duration.ZERO, () -> { }).orElseThrow()) {
                    assertTrue(other != null);
                }
            }
            // released with its session: the next attempt gets it at once
            try (SwitchLock again = store.lockSwitch("app", Duration.ZERO, () -> { }).orElseThrow()) {
                assertEquals(0, db.queryLong("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND database = (SELECT oid FROM pg_database WHERE datname = current_database()) AND NOT granted"));
                assertEquals(1, db.queryLong("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND database = (SELECT oid FROM pg_database WHERE datname = current_database()) AND granted"));
            }
        }
        assertEquals(0, db.queryLong("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"));
    }

    @Test
    void proxiesHeartbeatAndRoutesOnlyMoveForward(TestDatabase db) {
        try (ControlStore store = ControlStore.open(config(db))) {
            store.proxies().heartbeat("http://10.0.0.1:6433", "a", 11);
            store.proxies().heartbeat("http://10.0.0.2:6433", "b", 12);
            store.proxies().heartbeat("http://10.0.0.1:6433", "a", 11); // a renewal, not a second row
            db.execute("UPDATE pgreshard_proxy SET heartbeat_at = now() - interval '1 hour' WHERE host_name = 'b'");
            assertEquals(List.of("http://10.0.0.1:6433"),
                    store.proxies().findLive(30).stream().map(ProxyRow::controlUrl).toList(), "b is silent: not live");
            store.proxies().deleteById("http://10.0.0.1:6433");
            assertTrue(store.proxies().findLive(30).isEmpty());

            assertEquals(1, store.routes().install("prod", "prod_sharded", 1, "reshard-prod-prod_sharded-1"));
            assertEquals(0, store.routes().install("prod", "prod", 1, "late"), "an equal epoch does not overwrite");
            assertEquals(1, store.routes().install("prod", "prod", 2, "reshard-prod-prod_sharded-1"));
            RouteRow route = store.routes().findById("prod").orElseThrow();
            assertEquals("prod", route.cluster());
            assertEquals(2, route.epoch());

            store.cutovers().record("t", "CUTOVER", true, 120, 4096, 1, "");
            assertEquals(120, store.cutovers().findByTaskIdOrderById("t").get(0).pauseMs());
        }
    }

    @Test
    void unreachableStoreIsExplainedWithoutThePassword() {
        ControlConfig bad = new ControlConfig("jdbc:postgresql://127.0.0.1:" + FreePorts.next() + "/nope", "u",
                Secret.of("hunter2-control"));
        ConfigException e = assertThrows(ConfigException.class, () -> ControlStore.open(bad));
        assertTrue(e.getMessage().startsWith("[control] jdbc:postgresql://127.0.0.1:"), e.getMessage());
        assertTrue(e.getMessage().contains("check url, user and password in [control]"), e.getMessage());
        assertFalse(e.getMessage().contains("hunter2"), e.getMessage());
    }
}
