package dev.pgreshard.workflows.reshard;

import dev.pgreshard.workflows.TaskRef;
import dev.pgreshard.workflows.copy.CopyActivities;
import dev.pgreshard.workflows.copy.HeldSnapshot;
import dev.pgreshard.workflows.copy.RangeCopyRequest;
import dev.pgreshard.workflows.copy.RangeCopyResult;
import dev.pgreshard.workflows.copy.ShardSnapshot;
import dev.pgreshard.workflows.copy.SnapshotHold;
import dev.pgreshard.workflows.copy.SplitPlan;
import dev.pgreshard.workflows.copy.TableCopyRequest;
import dev.pgreshard.workflows.copy.TableCopyResult;
import io.temporal.failure.ActivityFailure;
import io.temporal.failure.ApplicationFailure;
import io.temporal.workflow.Async;
import io.temporal.workflow.CancellationScope;
import io.temporal.workflow.Promise;
import io.temporal.workflow.Workflow;
import org.slf4j.Logger;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Copies a split table (docs/architecture.md §5.4): one holder activity per source shard exports a
 * snapshot and keeps it importable; one range activity per key range reads that range from every
 * source shard at the held snapshots. The ranges run on whichever workers have copy slots free.
 *
 * <p>All ranges must read one snapshot per source shard: ranges read at different snapshots could copy
 * a row that an UPDATE moved between ranges twice, or not at all. So when a holder ends before every
 * range finished (its worker died, its connection broke), or a range finds the snapshot gone, the
 * table restarts: the ranges are cancelled (and awaited), the table is emptied on the destination and
 * copied again at new snapshots. A range retried by Temporal after its worker died re-imports the
 * same, still held snapshot and deletes its key range first.
 */
final class SplitTableCopy {
    private static final Logger LOG = Workflow.getLogger(SplitTableCopy.class);
    /** Snapshots a table may be started at before its copy fails the task. */
    static final int MAX_GENERATIONS = 5;

    private final CopyActivities copy;
    private final StatusBook status;

    SplitTableCopy(CopyActivities copy, StatusBook status) {
        this.copy = copy;
        this.status = status;
    }

    TableCopyResult run(TaskRef task, SplitPlan plan) {
        long started = Workflow.currentTimeMillis();
        for (int generation = 1; ; generation++) {
            TableCopyResult result = attempt(task, plan, generation, started);
            if (result != null) {
                return result;
            }
            if (generation >= MAX_GENERATIONS) {
                throw ApplicationFailure.newNonRetryableFailure("copy of " + plan.table() + " lost its snapshot "
                        + generation + " times (a worker holding it died, or the source connection broke); "
                        + "check the workers and the source, then restart the task", "SnapshotLost");
            }
            LOG.warn("copy of {}: snapshot {} lost before every range finished; emptying the table and restarting",
                    plan.table(), generation);
            status.warn("copy of " + plan.table() + " restarted at a new snapshot (generation " + (generation + 1)
                    + "): the snapshot holder ended before every range finished");
            copy.emptyTable(new TableCopyRequest(task, plan.table()));
        }
    }

    /** The result, or null when a snapshot was lost and the table must restart. */
    private TableCopyResult attempt(TaskRef task, SplitPlan plan, int generation, long started) {
        List<SnapshotHold> holds = new ArrayList<>();
        List<Promise<Void>> holders = new ArrayList<>();
        CancellationScope holding = Workflow.newCancellationScope(() -> {
            for (int shard : plan.sourceShards()) {
                SnapshotHold hold = new SnapshotHold(task, plan.table(), shard, generation);
                holds.add(hold);
                holders.add(Async.procedure(copy::holdSnapshot, hold));
            }
        });
        holding.run();
        try {
            List<HeldSnapshot> snapshots = awaitSnapshots(holds, holders);
            if (snapshots == null) {
                return null;
            }
            List<Promise<RangeCopyResult>> ranges = new ArrayList<>();
            CancellationScope copying = Workflow.newCancellationScope(() -> {
                for (int i = 0; i < plan.ranges().size(); i++) {
                    ranges.add(Async.function(copy::copyRange, new RangeCopyRequest(task, plan.table(), plan.keyColumn(),
                            plan.keyType(), plan.ranges().get(i), i, plan.ranges().size(), snapshots)));
                }
            });
            copying.run();
            Workflow.await(() -> allDone(ranges) || anyFailed(ranges) || anyDone(holders));
            if (!allSucceeded(ranges)) {
                ActivityFailure failure = firstFailure(ranges);
                copying.cancel();
                // ranges cancel with WAIT_CANCELLATION_COMPLETED: none may write after the table is emptied
                Workflow.await(() -> allDone(ranges));
                if (failure != null && !snapshotGone(failure)) {
                    throw failure;
                }
                return null;
            }
            long rows = 0;
            long bytes = 0;
            List<RangeCopyResult> done = new ArrayList<>();
            for (Promise<RangeCopyResult> p : ranges) {
                RangeCopyResult r = p.get();
                rows += r.rows();
                bytes += r.bytes();
                done.add(r);
            }
            List<ShardSnapshot> lsns = snapshots.stream().map(s -> new ShardSnapshot(s.sourceShard(), s.lsn())).toList();
            return new TableCopyResult(plan.table(), rows, bytes, Workflow.currentTimeMillis() - started, lsns,
                    placement(done));
        } finally {
            holding.cancel(); // releases the snapshots (their temporary slots go with the holders' sessions)
        }
    }

    /** Every holder's snapshot, or null when a holder ended before publishing its own. */
    private List<HeldSnapshot> awaitSnapshots(List<SnapshotHold> holds, List<Promise<Void>> holders) {
        List<HeldSnapshot> snapshots = new ArrayList<>();
        for (int i = 0; i < holds.size(); i++) {
            Promise<Void> holder = holders.get(i);
            SnapshotHold hold = holds.get(i);
            List<Promise<HeldSnapshot>> awaited = new ArrayList<>();
            CancellationScope waiting = Workflow.newCancellationScope(
                    () -> awaited.add(Async.function(copy::awaitSnapshot, hold)));
            waiting.run();
            Workflow.await(() -> awaited.get(0).isCompleted() || holder.isCompleted());
            if (holder.isCompleted() || awaited.get(0).getFailure() != null) {
                waiting.cancel();
                return null;
            }
            snapshots.add(awaited.get(0).get());
        }
        return snapshots;
    }

    /** "worker: N ranges at R B/s; ..." in order of first appearance (R: the worker's bytes over its ranges' time). */
    static String placement(List<RangeCopyResult> ranges) {
        Map<String, long[]> byWorker = new LinkedHashMap<>();
        for (RangeCopyResult r : ranges) {
            long[] t = byWorker.computeIfAbsent(r.worker(), w -> new long[3]);
            t[0]++;
            t[1] += r.bytes();
            t[2] += r.millis();
        }
        List<String> parts = new ArrayList<>();
        byWorker.forEach((w, t) -> parts.add(w + ": " + t[0] + (t[0] == 1 ? " range" : " ranges") + " at "
                + (t[2] <= 0 ? 0 : t[1] * 1000 / t[2]) + " B/s"));
        return String.join("; ", parts);
    }

    private static boolean snapshotGone(ActivityFailure failure) {
        return failure.getCause() instanceof ApplicationFailure app && HeldSnapshot.GONE.equals(app.getType());
    }

    private static ActivityFailure firstFailure(List<Promise<RangeCopyResult>> ranges) {
        for (Promise<RangeCopyResult> p : ranges) {
            if (p.isCompleted() && p.getFailure() instanceof ActivityFailure f) {
                return f;
            }
        }
        return null;
    }

    private static <T> boolean allDone(List<Promise<T>> promises) {
        return promises.stream().allMatch(Promise::isCompleted);
    }

    private static <T> boolean anyDone(List<Promise<T>> promises) {
        return promises.stream().anyMatch(Promise::isCompleted);
    }

    private static <T> boolean anyFailed(List<Promise<T>> promises) {
        return promises.stream().anyMatch(p -> p.isCompleted() && p.getFailure() != null);
    }

    private static <T> boolean allSucceeded(List<Promise<T>> promises) {
        return promises.stream().allMatch(p -> p.isCompleted() && p.getFailure() == null);
    }
}
