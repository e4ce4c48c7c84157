package dev.pgreshard.proxy.twophase;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class GroupCommitTest {
    /** Decisions as InMemoryDecisions keeps them; each decideAll waits until released, counting the calls. */
    private static final class SlowLog implements DecisionLog {
        final InMemoryDecisions stored = new InMemoryDecisions();
        final AtomicInteger calls = new AtomicInteger();
        final CountDownLatch release = new CountDownLatch(1);
        volatile boolean broken;

        @Override
        public Map<String, Outcome> decideAll(List<Request> requests) {
            calls.incrementAndGet();
            try {
                release.await(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            if (broken) {
                throw new IllegalStateException("control store unreachable");
            }
            return DecisionLog.super.decideAll(requests);
        }

        @Override
        public Outcome decide(String gid, Outcome outcome, String participants, String decidedBy) {
            return stored.decide(gid, outcome, participants, decidedBy);
        }

        @Override
        public java.util.Optional<Record> find(String gid) {
            return stored.find(gid);
        }

        @Override
        public List<Record> all() {
            return stored.all();
        }

        @Override
        public void forget(java.util.Collection<String> gids) {
            stored.forget(gids);
        }
    }

    /** Puts what the commit of {@code gid} was told into RESULTS. */
    private record Answers(String gid, CountDownLatch all) implements GroupCommit.Callback {
        @Override
        public void decided(DecisionLog.Outcome stored) {
            RESULTS.put(gid, stored.name());
            all.countDown();
        }

        @Override
        public void failed(RuntimeException e) {
            RESULTS.put(gid, "failed: " + e.getMessage());
            all.countDown();
        }
    }

    private static final Map<String, String> RESULTS = new ConcurrentHashMap<>();

    @Test
    void decisionsWaitingTogetherAreRecordedInOneWriteAndTheFirstDecisionWins() throws Exception {
        RESULTS.clear();
        SlowLog log = new SlowLog();
        log.decide("t_fenced", DecisionLog.Outcome.ABORT, "dst", "recovery");
        CountDownLatch all = new CountDownLatch(4);
        try (GroupCommit group = new GroupCommit(() -> log)) {
            group.submit(new DecisionLog.Request("t_1", DecisionLog.Outcome.COMMIT, "dst", "p"), new Answers("t_1", all));
            // the first write is under way (held by the log): the next three wait and go together
            while (log.calls.get() == 0) {
                Thread.sleep(5);
            }
            for (String gid : List.of("t_2", "t_3", "t_fenced")) {
                group.submit(new DecisionLog.Request(gid, DecisionLog.Outcome.COMMIT, "dst", "p"), new Answers(gid, all));
            }
            log.release.countDown();
            assertTrue(all.await(10, TimeUnit.SECONDS));
        }
        assertEquals(2, log.calls.get());
        assertEquals(Map.of("t_1", "COMMIT", "t_2", "COMMIT", "t_3", "COMMIT", "t_fenced", "ABORT"), RESULTS);
    }

    @Test
    void anUnreachableStoreFailsEveryDecisionOfTheWrite() throws Exception {
        RESULTS.clear();
        SlowLog log = new SlowLog();
        log.broken = true;
        log.release.countDown();
        CountDownLatch all = new CountDownLatch(2);
        try (GroupCommit group = new GroupCommit(() -> log)) {
            for (String gid : List.of("t_1", "t_2")) {
                group.submit(new DecisionLog.Request(gid, DecisionLog.Outcome.COMMIT, "dst", "p"), new Answers(gid, all));
            }
            assertTrue(all.await(10, TimeUnit.SECONDS));
        }
        assertEquals(Map.of("t_1", "failed: control store unreachable", "t_2", "failed: control store unreachable"), RESULTS);
        assertTrue(log.all().isEmpty());
    }

    @Test
    void aDecisionSubmittedAfterCloseFailsInsteadOfWaitingForever() {
        RESULTS.clear();
        GroupCommit group = new GroupCommit(InMemoryDecisions::new);
        group.close();
        CountDownLatch all = new CountDownLatch(1);
        group.submit(new DecisionLog.Request("t_late", DecisionLog.Outcome.COMMIT, "dst", "p"), new Answers("t_late", all));
        assertEquals(0, all.getCount());
        assertEquals("failed: the proxy is shutting down", RESULTS.get("t_late"));
    }
}
