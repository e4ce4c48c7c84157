package dev.pgreshard.workflows.copy;

import io.temporal.activity.ActivityInterface;
import io.temporal.activity.ActivityMethod;

/**
 * docs/architecture.md §5.4. A table is copied whole by one activity, or (above
 * copy_split_threshold_bytes, with a single-column primary key) as key ranges, each its own activity,
 * so that the ranges of one table run on several workers at one snapshot per source shard.
 */
@ActivityInterface
public interface CopyActivities {
    /**
     * One activity per table. It heartbeats {@link CopyProgress}; a retry first empties what an earlier
     * attempt wrote for the table on every destination shard.
     */
    @ActivityMethod
    TableCopyResult copyTable(TableCopyRequest request);

    /** Whole or split, and the key ranges; checks the destination table exists and is empty. Writes nothing. */
    @ActivityMethod
    SplitPlan planTable(TableCopyRequest request);

    /**
     * Exports a snapshot of the table's source shard, publishes it in the control store and keeps it
     * importable, heartbeating, until cancelled (after the table's last range finished). Not retried:
     * a new snapshot means the table restarts.
     */
    @ActivityMethod
    void holdSnapshot(SnapshotHold hold);

    /** Waits (heartbeating) until the holder of {@code hold} published its snapshot. */
    @ActivityMethod
    HeldSnapshot awaitSnapshot(SnapshotHold hold);

    /** Copies one key range from every source shard at its held snapshot; a retry first deletes the range. */
    @ActivityMethod
    RangeCopyResult copyRange(RangeCopyRequest request);

    /** Empties the table on every destination shard, before a split table restarts at a new snapshot. */
    @ActivityMethod
    void emptyTable(TableCopyRequest request);
}
