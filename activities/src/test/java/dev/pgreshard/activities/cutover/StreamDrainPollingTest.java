package dev.pgreshard.activities.cutover;

import dev.pgreshard.activities.replication.ReplicationTestCluster;
import dev.pgreshard.activities.replication.StreamEndpoints;
import dev.pgreshard.testkit.PostgresExtension;
import dev.pgreshard.testkit.TestDatabase;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The wait for the markers before the pause reads the progress rows at a relaxed pace (nobody waits for
 * it but the worker, and on a saturated machine each read takes CPU from the clients' commits); inside
 * the pause it reads every millisecond. No stream runs here, so no marker is ever applied and each wait
 * lasts its whole budget.
 */
@ExtendWith(PostgresExtension.class)
class StreamDrainPollingTest {
    private static final long BUDGET_MS = 300;

    @Test
    void beforeThePauseTheProgressIsReadAtARelaxedPace(TestDatabase src, TestDatabase d0, TestDatabase d1) throws Exception {
        ReplicationTestCluster t = new ReplicationTestCluster(src, d0, d1, "events", "tenant_id");
        t.createEverywhere("CREATE TABLE events (tenant_id bigint NOT NULL, note text)");
        t.publish("events");
        StreamEndpoints forward = t.endpoints(t.request());
        try (StreamDrain drain = new StreamDrain(t.connector, forward)) {
            long relaxed = pollsOverBudget(drain, StreamDrain.Polling.NOBODY_WAITING);
            long tight = pollsOverBudget(drain, StreamDrain.Polling.CLIENTS_PAUSED);
            // every 10 ms at most, the first read included
            assertTrue(relaxed <= BUDGET_MS / 10 + 2, "reads before the pause over " + BUDGET_MS + " ms: " + relaxed);
            assertTrue(tight > relaxed, "reads inside the pause (every millisecond): " + tight + ", before it: " + relaxed);
        }
    }

    private static long pollsOverBudget(StreamDrain drain, StreamDrain.Polling polling) throws Exception {
        PauseClock clock = new PauseClock(BUDGET_MS);
        clock.start();
        assertThrows(PauseClock.OverBudgetException.class,
                () -> drain.awaitApplied(drain.writeMarkers(), clock, () -> { }, polling));
        assertTrue(clock.elapsedMs() >= BUDGET_MS, "the wait ended before its budget: " + clock.elapsedMs() + " ms");
        return drain.lastPolls();
    }
}
