package dev.pgreshard.activities.cutover;

import dev.pgreshard.activities.replication.ReplicationRunner;
import dev.pgreshard.activities.replication.ReplicationTestCluster;
import dev.pgreshard.activities.replication.StreamEndpoints;
import dev.pgreshard.testkit.PostgresExtension;
import dev.pgreshard.testkit.TestDatabase;
import dev.pgreshard.workflows.replication.Direction;
import dev.pgreshard.workflows.replication.ReplicationRequest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Where reverse replication starts, now that its slots are made before the pause: the rows forward
 * replication applied to the destination after the slots were made (before and during the pause)
 * must not flow back to the source; only what the destination commits after the pause does. The
 * table has no key, so a row that came back shows as a second copy. Drives the cutover's own
 * {@link CutoverWork} the way {@link TrafficSwitch} does (prepare, markers and drain, the skip point
 * alongside, whilePaused), without proxies: what clients do is played by direct writes.
 */
@ExtendWith(PostgresExtension.class)
class ReverseStartTest {
    private static final String EVENTS = "CREATE TABLE events (tenant_id bigint NOT NULL, note text NOT NULL)";

    @Test
    void rowsForwardAppliedAfterTheSlotsWereMadeDoNotComeBack(TestDatabase src, TestDatabase d0, TestDatabase d1)
            throws Exception {
        Setup s = new Setup(src, d0, d1);
        s.write(src, "before the slots", 40);
        s.awaitForward();
        try (CutoverWork work = new CutoverWork(s.t.connector, s.reverse, () -> null)) {
            work.prepare();
            s.write(src, "after the slots", 40); // forward-applied into the slots' range
            s.awaitForward();
            s.pauseAndDrain(work);
        }
        s.forward.stop();
        s.forward.awaitTermination();
        s.write(d0, "destination d0", 25); // clients on the destination after the swap
        s.write(d1, "destination d1", 25);
        s.assertSourceAfterReverse(List.of("before the slots", "after the slots", "destination d0", "destination d1"),
                List.of(40, 40, 25, 25));
    }

    /**
     * An attempt that died inside its pause (its worker killed: the slots and its skip point stay, the
     * lease resumed clients on the source, which kept writing) and then a retry that swaps: the retry
     * reuses the slots, and nothing forward replication applied before the retry's pause comes back.
     */
    @Test
    void aRetryAfterAnAttemptThatDiedReusesItsSlotsAndNothingLoopsBack(TestDatabase src, TestDatabase d0, TestDatabase d1)
            throws Exception {
        Setup s = new Setup(src, d0, d1);
        s.write(src, "before attempt 1", 30);
        s.awaitForward();
        CutoverWork dead = new CutoverWork(s.t.connector, s.reverse, () -> null);
        dead.prepare();
        s.write(src, "attempt 1 prepared", 30);
        s.awaitForward();
        s.pauseAndDrain(dead);
        dead.close(); // died: no undo, no cleanUpAfterAbort
        s.write(src, "after attempt 1 died", 30); // clients back on the source
        s.awaitForward();
        assertEquals(2, d0.queryLong("SELECT count(*) FROM pg_replication_slots WHERE slot_name IN ('"
                + s.reverse.slotName(0) + "', '" + s.reverse.slotName(1) + "')"), "the dead attempt's reverse slots are left");
        try (CutoverWork retry = new CutoverWork(s.t.connector, s.reverse, () -> null)) {
            retry.prepare();
            assertEquals(2, retry.reusedSlots(), "the retry reuses the dead attempt's slots");
            s.write(src, "attempt 2 prepared", 30);
            s.awaitForward();
            s.pauseAndDrain(retry);
        }
        s.forward.stop();
        s.forward.awaitTermination();
        s.write(d0, "destination d0", 20);
        s.write(d1, "destination d1", 20);
        s.assertSourceAfterReverse(List.of("before attempt 1", "attempt 1 prepared", "after attempt 1 died",
                "attempt 2 prepared", "destination d0", "destination d1"), List.of(30, 30, 30, 30, 20, 20));
    }

    /** Source (1 shard) → destination (2 shards) with forward replication running. */
    private static final class Setup {
        final ReplicationTestCluster t;
        final ReplicationRequest forwardRequest;
        final StreamEndpoints forwardEndpoints;
        final StreamEndpoints reverse;
        final ReplicationRunner forward;
        final TestDatabase src;
        int next;

        Setup(TestDatabase src, TestDatabase d0, TestDatabase d1) throws Exception {
            this.src = src;
            t = new ReplicationTestCluster(src, d0, d1, "events", "tenant_id");
            t.createEverywhere(EVENTS, "ALTER TABLE events REPLICA IDENTITY FULL");
            t.publish("events");
            forwardRequest = t.request();
            forwardEndpoints = t.endpoints(forwardRequest);
            reverse = t.endpoints(new ReplicationRequest(t.task, Direction.REVERSE, List.of()));
            t.slots().createSlots(forwardEndpoints);
            forward = t.runner(forwardRequest);
            forward.start();
        }

        /** {@code n} rows noted {@code note}, one transaction each. */
        void write(TestDatabase db, String note, int n) {
            for (int i = 0; i < n; i++) {
                db.execute("INSERT INTO events VALUES (" + (next++) + ", '" + note + "')");
            }
        }

        void awaitForward() throws InterruptedException {
            t.awaitApplied(forward);
        }

        /** What TrafficSwitch does inside the pause, up to the commit point (the sequences left out). */
        void pauseAndDrain(CutoverWork work) throws Exception {
            try (StreamDrain drain = new StreamDrain(t.connector, forwardEndpoints)) {
                PauseClock clock = new PauseClock(30_000);
                clock.start();
                drain.awaitApplied(drain.writeMarkers(), clock, () -> { }, StreamDrain.Polling.CLIENTS_PAUSED);
                work.startAlongside(drain);
                work.whilePaused(drain, clock);
            }
        }

        /** Runs reverse replication until the source holds every destination write; checks each note's count. */
        void assertSourceAfterReverse(List<String> notes, List<Integer> counts) throws Exception {
            ReplicationRunner back = new ReplicationRunner(t.config, t.connector,
                    new ReplicationRequest(t.task, Direction.REVERSE, List.of()), ReplicationTestCluster.FAST);
            back.start();
            try {
                long expected = counts.stream().mapToLong(Integer::longValue).sum();
                long deadline = System.currentTimeMillis() + 60_000;
                while (src.queryLong("SELECT count(*) FROM events") < expected) {
                    if (back.failure() != null) {
                        throw new AssertionError("reverse replication failed", back.failure());
                    }
                    if (System.currentTimeMillis() > deadline) {
                        fail("reverse replication did not bring the destination's rows within 60 s: "
                                + src.queryRows("SELECT note, count(*) FROM events GROUP BY 1 ORDER BY 1"));
                    }
                    Thread.sleep(20);
                }
                // a last write on each destination shard, applied: everything the stream had before it is applied too
                write(t.shards.get(0), "last", 1);
                write(t.shards.get(1), "last", 1);
                while (src.queryLong("SELECT count(*) FROM events WHERE note = 'last'") < 2) {
                    if (back.failure() != null) {
                        throw new AssertionError("reverse replication failed", back.failure());
                    }
                    if (System.currentTimeMillis() > deadline) {
                        fail("reverse replication did not bring the last rows within 60 s");
                    }
                    Thread.sleep(20);
                }
                for (int i = 0; i < notes.size(); i++) {
                    assertEquals(counts.get(i), (int) src.queryLong("SELECT count(*) FROM events WHERE note = '"
                            + notes.get(i) + "'"), "rows noted '" + notes.get(i) + "' on the source (a second copy came "
                            + "back from the destination): " + src.queryRows("SELECT note, count(*) FROM events GROUP BY 1 ORDER BY 1"));
                }
                assertEquals(0, src.queryLong("SELECT count(*) FROM (SELECT tenant_id FROM events GROUP BY 1 "
                        + "HAVING count(*) > 1) twice"), "a row is on the source twice");
            } finally {
                back.stop();
                back.awaitTermination();
                new dev.pgreshard.activities.replication.SlotManager(t.connector).dropSlots(reverse);
                t.slots().dropSlots(forwardEndpoints);
            }
        }
    }
}
