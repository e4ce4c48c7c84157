package dev.pgreshard.workflows.copy;

import dev.pgreshard.core.pg.Lsn;

/**
 * A snapshot exported on a source shard and kept importable by its holder activity.
 *
 * @param snapshotId what SET TRANSACTION SNAPSHOT takes
 * @param lsn        the consistent point: replication applies the table's changes from here
 * @param worker     identity of the worker holding it
 */
public record HeldSnapshot(int sourceShard, String snapshotId, Lsn lsn, String worker) {
    /** ApplicationFailure type of a range that could not import its snapshot: the table restarts. */
    public static final String GONE = "SnapshotGone";
}
