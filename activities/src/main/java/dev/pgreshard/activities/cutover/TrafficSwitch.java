package dev.pgreshard.activities.cutover;

import dev.pgreshard.activities.support.ActivityProblems;
import dev.pgreshard.activities.support.WorkerMetrics;
import dev.pgreshard.activities.control.ControlStore;
import dev.pgreshard.activities.control.ProxyRegistration;
import dev.pgreshard.activities.control.ProxyRow;
import dev.pgreshard.activities.control.RouteRow;
import dev.pgreshard.activities.control.SwitchLock;
import dev.pgreshard.activities.catalog.Catalog;
import dev.pgreshard.activities.replication.StreamEndpoints;
import dev.pgreshard.activities.sequence.SequenceCatalog;
import dev.pgreshard.activities.sequence.SequenceCatalog.FeedingSequence;
import dev.pgreshard.activities.sequence.SequenceSpacing;
import dev.pgreshard.core.config.PgReshardConfig;
import dev.pgreshard.core.pg.Lsn;
import dev.pgreshard.core.pg.PgConnector;
import dev.pgreshard.workflows.TaskRef;
import dev.pgreshard.workflows.cutover.CutoverResult;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * Moves the traffic of one client database from one cluster to another — the cutover (source →
 * destination) and the rollback (back) are the same sequence:
 * <ol>
 * <li>outside the pause: connections opened, {@link PausedWork#prepare} (e.g. reverse publications),
 * the sequences feeding the published tables found, checked and spaced ({@link SequenceSpacing}); the
 * warm switch: every proxy opens and prepares its sessions' connections to the other cluster
 * ({@link ProxyFleet#prepare}), and one that cannot ends the attempt before anyone is paused; last, the
 * sequences spaced once more with headroom past what clients are drawing ({@link SequenceSpacing#planAhead});</li>
 * <li>pause every live registered proxy and wait until each has no transaction in flight (a proxy
 * that does not acknowledge aborts);</li>
 * <li>a marker on every shard traffic leaves, and wait until the stream into the other cluster has
 * applied it: everything acknowledged to a client before the pause is now on the other side;</li>
 * <li>the sequences checked: all the side traffic leaves handed out lies before the values set ahead, or
 * they are spaced anew past everything either side handed out, shard i of N on its own residue; then
 * {@link PausedWork#whilePaused} (where reverse replication starts, fencing);</li>
 * <li>the commit point: the new route under a new epoch in the control store;</li>
 * <li>every proxy swapped to the new route and resumed, in one call each.</li>
 * </ol>
 * Any failure or a spent budget before the commit point undoes the paused work and resumes the
 * proxies on the old route: clients saw a pause, nothing else. After the commit point the switch
 * only goes forward: a proxy that cannot be reached keeps its clients paused until it applies the
 * new epoch itself (its registration reads the store every {@link ProxyRegistration#INTERVAL}).
 * Switches of one database never overlap ({@link SwitchLock}), so an attempt's undo cannot touch
 * what a later attempt did.
 */
final class TrafficSwitch {
    private static final Logger log = LoggerFactory.getLogger(TrafficSwitch.class);
    private static final long SWAP_RETRY_MS = 10_000;
    /** After a swap, how long the worker waits before its clean-up and the workflow's next step (see pauseAndSwap). */
    private static final long SETTLE_AFTER_SWAP_MS = 300;
    private static final long CATCH_UP_LIMIT_MS = 5 * 60_000;
    private static final long WAIT_REPORT_AFTER_MS = 10_000;
    private static final long WAIT_REPORT_EVERY_MS = 30_000;
    /** A marker applied this fast means the stream is caught up, whatever the budget (a small budget is the pause's business). */
    private static final long CAUGHT_UP_MS = 500;
    /** A marker applied this fast means the stream has no backlog left: the drain inside the pause costs about this. */
    private static final long SETTLED_MS = 50;
    /** A marker this much faster than the one before means the stream is still working off a backlog. */
    private static final double STILL_CATCHING_UP = 0.8;
    /** How long an attempt waits for another switch of the same database (e.g. a zombie attempt) to end. */
    private static final Duration LOCK_WAIT = Duration.ofSeconds(60);
    /** Right before the pause, a marker applied this fast means the stream holds no backlog the pause would drain. */
    private static final long FLUSHED_MS = 100;
    /** At most this many markers right before the pause (see flushStreamBeforePause). */
    private static final int FLUSH_MARKERS = 3;
    /** How long the proxies may take to open and prepare their sessions' connections to the new cluster (no one is paused yet). */
    private static final long WARM_UP_WAIT_MS = 10_000;

    /** What one kind of switch does besides moving the route. */
    interface PausedWork extends AutoCloseable {
        /** Before the pause (may be slow): everything that does not need writes stopped, e.g. opening connections. */
        void prepare() throws SQLException;

        /**
         * Inside the pause, right after the drain: starts work that uses none of the drain's connections
         * (e.g. where reverse replication starts, on connections of its own) but may use what the drain
         * read; it runs alongside the sequence spacing and must be waited for in {@link #whilePaused}.
         */
        default void startAlongside(StreamDrain drain) {
        }

        /** Inside the pause, after the sequences; bounded by {@code clock}. Ends what {@link #startAlongside} started. */
        void whilePaused(StreamDrain drain, PauseClock clock) throws SQLException, PauseClock.OverBudgetException;

        /** What the work alongside took, for the step log ("" when none). */
        default String alongsideReport() {
            return "";
        }

        /**
         * Undoes what clients would notice of {@link #whilePaused} (e.g. fencing) after an abort, before
         * the proxies resume: keep it quick. Best effort; the cause of the abort is what is reported.
         */
        void undo();

        /**
         * Removes the rest of an aborted attempt (e.g. reverse slots) once clients run again, or of an
         * attempt refused before the pause; nothing when {@link #prepare} did not complete.
         */
        default void cleanUpAfterAbort() {
        }

        /** Closes what {@link #prepare} opened; called once the attempt ended, whatever the outcome. */
        @Override
        default void close() {
        }
    }

    /**
     * @param kind     CUTOVER or ROLLBACK (for messages and the audit)
     * @param database the client-facing database whose traffic moves
     * @param from     the cluster serving it now
     * @param to       the cluster that serves it after the switch
     * @param drain    the replication stream {@code from} → {@code to} that must be caught up
     */
    record Plan(String kind, TaskRef task, String database, String from, String to, StreamEndpoints drain,
                PausedWork work) {
    }

    private final PgReshardConfig config;
    private final PgConnector connector;
    private final ControlStore store;
    private final Runnable heartbeat;

    TrafficSwitch(PgReshardConfig config, PgConnector connector, ControlStore store, Runnable heartbeat) {
        this.config = config;
        this.connector = connector;
        this.store = store;
        this.heartbeat = heartbeat;
    }

    CutoverResult run(Plan plan, long budgetMs) {
        java.util.Optional<SwitchLock> lock;
        try {
            lock = store.lockSwitch(plan.database(), LOCK_WAIT, heartbeat);
        } catch (SQLException e) {
            return notSwapped(plan, 0, 0, 0, "cannot take the switch lock of '" + plan.database()
                    + "' in the control store: " + e.getMessage() + "; no client was paused");
        }
        if (lock.isEmpty()) {
            return notSwapped(plan, 0, 0, 0, "another cutover or rollback of '" + plan.database() + "' is still running "
                    + "(an earlier attempt of this task that Temporal gave up on, or another task); waited "
                    + LOCK_WAIT.toSeconds() + " s, no client was paused — try again when it has ended");
        }
        try (SwitchLock held = lock.get()) {
            return runExclusively(plan, budgetMs);
        }
    }

    private CutoverResult runExclusively(Plan plan, long budgetMs) {
        RouteRow route = store.routes().findById(plan.database()).orElse(null);
        long epoch = route == null ? 0 : route.epoch();
        String serving = route == null ? plan.database() : route.cluster();
        List<ProxyRow> live = store.proxies().findLive(ProxyRegistration.LIVENESS.toSeconds());
        ProxyFleet fleet = new ProxyFleet(config.requireAdmin(), live.stream().map(ProxyRow::controlUrl).toList())
                .serving(plan.database());
        if (route != null && serving.equals(plan.to()) && route.taskId().equals(plan.task().taskId())) {
            // an earlier attempt of this activity passed the commit point: finish what it started
            log.info("{} of {}: the route of '{}' already points at {} (epoch {}); finishing the switch",
                    plan.kind(), plan.task().taskId(), plan.database(), plan.to(), epoch);
            finishSwap(fleet, plan, epoch);
            return new CutoverResult(true, 0, 0, epoch, "");
        }
        if (!serving.equals(plan.from())) {
            return notSwapped(plan, 0, 0, epoch, "database '" + plan.database() + "' is routed to cluster '" + serving
                    + "' (epoch " + epoch + "), not '" + plan.from() + "'; another task moved it");
        }
        if (fleet.urls().isEmpty()) {
            return notSwapped(plan, 0, 0, epoch, "no live proxy serving '" + plan.database() + "' is registered in the "
                    + "control store; start `pgreshard proxy` "
                    + "or `pgreshard run` (with this [control]) in front of the application, then cut over again");
        }
        long newEpoch = epoch + 1;
        boolean pausing = false;
        PauseClock sincePrepare = new PauseClock(Long.MAX_VALUE);
        sincePrepare.start();
        StepTimes before = new StepTimes(sincePrepare);
        try (StreamDrain drain = new StreamDrain(connector, plan.drain()); PausedWork work = plan.work()) {
            work.prepare();
            before.done("prepare");
            List<FeedingSequence> sequences = feedingSequences(plan, drain);
            // refused here, before anyone is paused, when a sequence's range is too small to space; spaced
            // already (nobody draws on that side yet), so the pass inside the pause only moves values
            SequenceSpacing spaced = SequenceSpacing.plan(sequences, drain.readShards(), drain.writeShards(),
                    drain.writeShardNames());
            spaced.apply(drain.writeShards());
            before.done("sequences");
            String notReady = awaitStreamCaughtUp(plan, drain, budgetMs);
            if (notReady != null) {
                return refusedBeforePause(plan, epoch, notReady);
            }
            before.done("caught up");
            // last, so the connections the pause uses are fresh
            Map<String, String> unready = fleet.check(plan.database());
            if (!unready.isEmpty()) {
                return refusedBeforePause(plan, epoch, "not every registered proxy can be paused: "
                        + String.join("; ", unready.values()) + " (a proxy that is gone drops out of cutovers "
                        + ProxyRegistration.LIVENESS.toSeconds() + " s after its last heartbeat)");
            }
            // the warm switch: every session's connections to the new cluster opened, logged in and prepared
            // now, so the swap costs no login and no Parse; a shard refusing connections ends the attempt here
            before.done("proxies checked");
            Map<String, String> cold = fleet.prepare(plan.database(), plan.to(), newEpoch, WARM_UP_WAIT_MS, leaseMs(budgetMs));
            if (!cold.isEmpty()) {
                fleet.discard(plan.database());
                return refusedBeforePause(plan, epoch, "not every proxy could prepare its sessions' connections to '"
                        + plan.to() + "': " + String.join("; ", cold.values()) + "; no client was paused");
            }
            before.done("warm switch");
            int markers;
            try {
                markers = flushStreamBeforePause(plan, drain, budgetMs);
            } catch (SQLException | RuntimeException e) {
                fleet.discard(plan.database()); // the warm connections would otherwise wait for their time-to-live
                throw e;
            }
            before.done("stream flushed");
            if (markers > 1) {
                before.note(markers + " markers");
            }
            SequenceSpacing ahead = spaceAhead(plan, drain, sequences, spaced);
            before.done("sequences ahead");
            // where the seconds before a pause go (clients run meanwhile, but feel what loads their servers)
            log.info("{} of {}: pausing after {}", plan.kind(), plan.task().taskId(), before);
            pausing = true;
            return pauseAndSwap(plan, fleet, drain, sequences, ahead, budgetMs, newEpoch);
        } catch (SequenceSpacing.SequenceRangeException e) {
            return refusedBeforePause(plan, epoch, e.getMessage() + "; no client was paused");
        } catch (SQLException | RuntimeException e) {
            String reason = "preparing the " + plan.kind().toLowerCase() + " failed before any pause: " + e.getMessage();
            return pausing ? notSwapped(plan, 0, 0, epoch, reason) : refusedBeforePause(plan, epoch, reason);
        }
    }

    /**
     * An attempt that ends before pausing anyone: what it prepared for the switch (e.g. reverse slots,
     * which hold the destination's WAL) is removed; a retry prepares anew.
     */
    private CutoverResult refusedBeforePause(Plan plan, long epoch, String reason) {
        plan.work().cleanUpAfterAbort();
        return notSwapped(plan, 0, 0, epoch, reason);
    }

    /**
     * Before pausing anyone: the stream must apply a marker fast enough that the drain inside the
     * pause can fit the budget (within half of it, or {@link #CAUGHT_UP_MS}), and must be done with
     * its backlog: a marker within {@link #SETTLED_MS}, or one no faster than the one before. Else the
     * pause would wait for the rest of the backlog (a rollback right after the cutover: the reverse
     * stream starts behind and takes seconds to catch up; its markers were 72–218 ms inside the
     * pause where the settled forward stream's were 13–52). A stream far behind (a manual cutover
     * with a backlog) is waited for here, without a pause, up to {@link #CATCH_UP_LIMIT_MS}. Returns
     * why it is not ready, or null.
     */
    private String awaitStreamCaughtUp(Plan plan, StreamDrain drain, long budgetMs) throws SQLException {
        long started = System.currentTimeMillis();
        long deadline = started + CATCH_UP_LIMIT_MS;
        long lastMs = -1;
        List<Long> tries = new java.util.ArrayList<>();
        long polls = 0;
        long[] nextReport = {started + WAIT_REPORT_AFTER_MS};
        // a long wait is listed in the task's status as it happens, not only once the attempt gives up
        Runnable beat = () -> {
            heartbeat.run();
            long now = System.currentTimeMillis();
            if (now >= nextReport[0]) {
                nextReport[0] = now + WAIT_REPORT_EVERY_MS;
                ActivityProblems.waiting(drain.describe(), "the " + drain.describe() + " has not applied a marker for "
                        + (now - started) / 1000 + " s (no client is paused; gives up after " + CATCH_UP_LIMIT_MS / 1000
                        + " s): replication is behind or failing");
            }
        };
        while (System.currentTimeMillis() < deadline) {
            PauseClock clock = new PauseClock(Math.max(1, deadline - System.currentTimeMillis()));
            clock.start();
            try {
                drain.awaitApplied(drain.writeMarkers(), clock, beat, StreamDrain.Polling.NOBODY_WAITING);
            } catch (PauseClock.OverBudgetException e) {
                break;
            }
            long previous = lastMs;
            lastMs = clock.elapsedMs();
            tries.add(lastMs);
            polls += drain.lastPolls();
            boolean settled = lastMs <= SETTLED_MS || (previous >= 0 && lastMs >= STILL_CATCHING_UP * previous);
            if (settled && lastMs <= Math.max(budgetMs / 2, CAUGHT_UP_MS)) {
                log.info("{} of {}: the {} applied markers in {} ms before the pause ({} reads of its progress)",
                        plan.kind(), plan.task().taskId(), drain.describe(),
                        tries.size() > 12 ? tries.subList(tries.size() - 12, tries.size()) : tries, polls);
                return null;
            }
            heartbeat.run();
        }
        return "the " + drain.describe() + " is not caught up: " + (lastMs < 0 ? "a marker was not applied within "
                + CATCH_UP_LIMIT_MS / 1000 + " s" : "applying a marker still takes " + lastMs + " ms")
                + " (the pause budget is " + budgetMs + " ms); no client was paused — try again once the lag is low";
    }

    /**
     * Right before the pause: one more marker, waited for without pausing anyone. Its commit makes the
     * stream commit the batch it holds (batches otherwise close only every maxBatchDelayMs under a
     * steady load, and the warm-up since the caught-up check let one grow), so the drain inside the
     * pause applies only what clients wrote while the proxies paused. Measured (bench/cutover, 8
     * writers, 40 switches): drain inside the pause median 16 → 8 ms, max 121 → 76 ms. A marker that is slow here is
     * no reason to refuse: the drain inside the pause is bounded by the budget as before. But a slow one means
     * the stream fell behind meanwhile (a long warm switch on a loaded machine), so another marker follows, up to
     * {@link #FLUSH_MARKERS} in all and within the one bound, until one is applied within {@link #FLUSHED_MS}: bench/cutover, 2026-12-03,
     * a marker applied after 521 ms was followed by a drain of 138 ms (177 kB) inside the pause, the longest
     * pause of 320 switches (the others drained in 9-42 ms). Returns how many markers it took.
     */
    private int flushStreamBeforePause(Plan plan, StreamDrain drain, long budgetMs) throws SQLException {
        // one bound for all the markers, as for the single marker before: the warm connections' time to live
        // (leaseMs) counts on it
        PauseClock clock = new PauseClock(Math.max(budgetMs, CAUGHT_UP_MS));
        clock.start();
        for (int markers = 1; ; markers++) {
            long started = clock.elapsedMs();
            try {
                drain.awaitApplied(drain.writeMarkers(), clock, heartbeat, StreamDrain.Polling.NOBODY_WAITING);
            } catch (PauseClock.OverBudgetException e) {
                log.info("{} of {}: the {} did not apply {} within {} ms right before the pause; pausing anyway",
                        plan.kind(), plan.task().taskId(), drain.describe(), markers == 1 ? "a marker" : markers + " markers",
                        clock.elapsedMs());
                return markers;
            }
            if (clock.elapsedMs() - started <= FLUSHED_MS || markers == FLUSH_MARKERS) {
                return markers;
            }
        }
    }

    /** The sequences feeding the task's published tables, found in the source cluster's catalog. */
    private static List<FeedingSequence> feedingSequences(Plan plan, StreamDrain drain) throws SQLException {
        Connection source = plan.from().equals(plan.task().source()) ? drain.readShards().get(0) : drain.writeShards().get(0);
        return SequenceCatalog.feeding(source, Catalog.publishedTables(source, plan.task().publication()));
    }

    /**
     * Right before the pause: the side traffic goes to gets its sequences' next values set with headroom past
     * what clients are still drawing on the other side, so the pause only reads that side
     * ({@link SequenceSpacing#stillAhead}) instead of reading both and writing. Measured with the write inside
     * the pause: the step took 15–56 ms of a 100 ms pause (bench/cutover, 4 servers). Null when headroom does
     * not fit a sequence's range: the pause then spaces as before.
     */
    private SequenceSpacing spaceAhead(Plan plan, StreamDrain drain, List<FeedingSequence> sequences,
                                       SequenceSpacing earlier) throws SQLException {
        try {
            SequenceSpacing ahead = SequenceSpacing.planAhead(sequences, drain.readShards(), drain.writeShards(),
                    drain.writeShardNames(), earlier);
            ahead.apply(drain.writeShards());
            return ahead;
        } catch (SequenceSpacing.SequenceRangeException e) {
            log.info("{} of {}: sequences spaced inside the pause (no room for headroom: {})", plan.kind(),
                    plan.task().taskId(), e.getMessage());
            return null;
        }
    }

    private CutoverResult pauseAndSwap(Plan plan, ProxyFleet fleet, StreamDrain drain, List<FeedingSequence> sequences,
                                       SequenceSpacing ahead, long budgetMs, long newEpoch) {
        PauseClock clock = new PauseClock(budgetMs);
        StepTimes steps = new StepTimes(clock);
        long lagBytes = 0;
        List<Lsn> markers = null;
        clock.start();
        try {
            // the lease outlives any pause this attempt can make, and ends a pause its worker left behind
            Map<String, String> unpaused = fleet.pause(plan.database(), clock.remainingMs(), leaseMs(budgetMs));
            if (!unpaused.isEmpty()) {
                throw new Abort("not every proxy acknowledged a drained pause within the budget of " + budgetMs + " ms: "
                        + String.join("; ", unpaused.values()));
            }
            steps.done("pause");
            clock.check("the pause acknowledgements");
            markers = drain.writeMarkers();
            steps.done("markers");
            lagBytes = drain.awaitApplied(markers, clock, () -> { }, StreamDrain.Polling.CLIENTS_PAUSED);
            steps.done("drain");
            // nothing is handed out on either side now; from here on nothing waits for replication
            plan.work().startAlongside(drain);
            // the sequences past everything handed out: set ahead of the pause when clients drew less than its headroom
            if (ahead == null || !ahead.stillAhead(drain.readShards())) {
                if (ahead != null) { // (null: no room for headroom, already logged by spaceAhead)
                    log.info("{} of {}: clients drew past the sequences' headroom before the pause; spacing them in it",
                            plan.kind(), plan.task().taskId());
                }
                SequenceSpacing.plan(sequences, drain.readShards(), drain.writeShards(), drain.writeShardNames())
                        .apply(drain.writeShards());
            }
            steps.done("sequences");
            clock.check("the sequence sync");
            plan.work().whilePaused(drain, clock);
            steps.done("paused work");
            steps.note(plan.work().alongsideReport());
            clock.check("the last step before the swap");
            if (!install(plan, newEpoch)) {
                throw new Abort("the route of '" + plan.database() + "' changed while paused (epoch " + newEpoch
                        + " or newer exists); another task is moving it");
            }
        } catch (Abort | PauseClock.OverBudgetException | SQLException | RuntimeException e) {
            plan.work().undo();
            Map<String, String> stuck = fleet.resume(plan.database());
            long pauseMs = clock.elapsedMs();
            steps.done("abort and resume");
            steps.publish();
            fleet.discard(plan.database());
            if (markers != null && lagBytes == 0) {
                lagBytes = lagAfterAbort(drain, markers); // clients run again: the lag the drain did not get through
            }
            WorkerMetrics.cutoverPause(plan.task().taskId(), plan.kind(), false, Duration.ofMillis(pauseMs));
            String reason = e.getMessage() + "; traffic stays on " + plan.from() + " (resumed after " + pauseMs + " ms)"
                    + (stuck.isEmpty() ? "" : "; could not resume: " + String.join("; ", stuck.values()));
            log.info("{} of {} aborted; pause steps: {}", plan.kind(), plan.task().taskId(), steps);
            reason = reason + " (pause steps: " + steps + ")";
            plan.work().cleanUpAfterAbort();
            return notSwapped(plan, pauseMs, lagBytes, newEpoch - 1, reason);
        }
        steps.done("commit");
        // committed: from here on the switch only goes forward
        // each proxy resumes as soon as it has the new route (one round trip): the others are paused or swapped too
        Map<String, String> notSwapped = fleet.swapAndResume(plan.database(), plan.to(), newEpoch);
        long pauseMs = clock.elapsedMs();
        steps.done("swap and resume");
        if (!notSwapped.isEmpty()) {
            finishSwap(fleet.only(notSwapped.keySet()), plan, newEpoch);
        }
        String note = "pause steps: " + steps + (notSwapped.isEmpty() ? ""
                : "; swap and resume retried on: " + String.join("; ", notSwapped.values()));
        store.cutovers().record(plan.task().taskId(), plan.kind(), true, pauseMs, lagBytes, newEpoch, note);
        log.info("{} of {}: '{}' now served by {} (epoch {}); clients paused {} ms ({}), {} bytes drained",
                plan.kind(), plan.task().taskId(), plan.database(), plan.to(), newEpoch, pauseMs, steps, lagBytes);
        // the resumed clients' first transactions go first: closing this attempt's connections (server process
        // exits) and the workflow's next step wait a moment, so they take no CPU from them on a shared host
        sleep(SETTLE_AFTER_SWAP_MS);
        WorkerMetrics.cutoverPause(plan.task().taskId(), plan.kind(), true, Duration.ofMillis(pauseMs));
        steps.publish();
        return new CutoverResult(true, pauseMs, lagBytes, newEpoch, notSwapped.isEmpty() ? "" : note);
    }

    private static long lagAfterAbort(StreamDrain drain, List<Lsn> markers) {
        try {
            return drain.lagBytes(markers);
        } catch (SQLException | RuntimeException e) {
            return 0;
        }
    }

    /** Writes the new route; an error whose write may still have committed is settled by reading it back. */
    private boolean install(Plan plan, long newEpoch) {
        try {
            return store.routes().install(plan.database(), plan.to(), newEpoch, plan.task().taskId()) == 1;
        } catch (RuntimeException e) {
            RouteRow now = store.routes().findById(plan.database()).orElseThrow(() -> e);
            if (now.epoch() == newEpoch && now.cluster().equals(plan.to()) && now.taskId().equals(plan.task().taskId())) {
                return true;
            }
            throw e;
        }
    }

    /** Swaps and resumes proxies after the commit point, retrying those that do not answer for a while. */
    private void finishSwap(ProxyFleet fleet, Plan plan, long epoch) {
        long deadline = System.currentTimeMillis() + SWAP_RETRY_MS;
        ProxyFleet pending = fleet;
        while (!pending.urls().isEmpty()) {
            Map<String, String> failed = pending.swapAndResume(plan.database(), plan.to(), epoch);
            if (failed.isEmpty()) {
                return;
            }
            if (System.currentTimeMillis() > deadline) {
                log.error("{} of {}: {} did not take epoch {}; each keeps its clients paused until it reads the new "
                                + "route from the control store itself (restart a proxy that is gone)",
                        plan.kind(), plan.task().taskId(), String.join("; ", failed.values()), epoch);
                return;
            }
            heartbeat.run();
            sleep(500);
            pending = pending.only(failed.keySet());
        }
    }

    /** How long a proxy holds a pause of this switch before it checks the store and resumes by itself. */
    static long leaseMs(long budgetMs) {
        return 2 * budgetMs + 5_000;
    }

    private CutoverResult notSwapped(Plan plan, long pauseMs, long lagBytes, long epoch, String reason) {
        log.warn("{} of {} did not swap: {}", plan.kind(), plan.task().taskId(), reason);
        try {
            store.cutovers().record(plan.task().taskId(), plan.kind(), false, pauseMs, lagBytes, epoch, reason);
        } catch (RuntimeException e) {
            log.warn("could not record the {} attempt in the control store: {}", plan.kind(), e.getMessage());
        }
        return new CutoverResult(false, pauseMs, lagBytes, epoch, reason);
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * How long each step of a pause took ("pause 3 ms, markers 2 ms, drain 41 ms, ..."): in the worker log,
     * the audit row's note (pgreshard_cutover) and the step timer {@code pgreshard.cutover.step}. The steps
     * before a pause are timed the same way, for the worker log only.
     */
    private static final class StepTimes {
        private final PauseClock clock;
        private final StringBuilder text = new StringBuilder();
        private final Map<String, Long> took = new java.util.LinkedHashMap<>();
        private long last;

        StepTimes(PauseClock clock) {
            this.clock = clock;
        }

        void done(String step) {
            long now = clock.elapsedMs();
            text.append(text.isEmpty() ? "" : ", ").append(step).append(' ').append(now - last).append(" ms");
            took.put(step, now - last);
            last = now;
        }

        /**
         * Records the steps in the step timer, once clients run again: the first registration of a timer in
         * a JVM loads and links the metrics library's histogram classes, which took 90 ms of the first
         * pause of a worker when each step was recorded as it ended (bench/cutover, 2026-12-02).
         */
        void publish() {
            took.forEach((step, ms) -> WorkerMetrics.cutoverStep(step, Duration.ofMillis(ms)));
        }

        /** Adds what ran alongside the steps (not part of their sum), e.g. "reverse slots 40 ms alongside". */
        void note(String alongside) {
            if (!alongside.isEmpty()) {
                text.append(" (").append(alongside).append(')');
            }
        }

        @Override
        public String toString() {
            return text.toString();
        }
    }

    /** A reason to give up before the commit point. */
    static final class Abort extends Exception {
        Abort(String message) {
            super(message);
        }
    }
}
