package dev.pgreshard.workflows.reshard;

import dev.pgreshard.core.topology.TableName;

/**
 * Copy progress of one table as the workflow knows it: PENDING, COPYING, or COPIED with its totals.
 * (Live row counts of a table being copied are in its activity's heartbeats.)
 */
public record TableProgress(TableName table, String state, long rows, long bytes, long millis) {
    public static final String PENDING = "PENDING";
    public static final String COPYING = "COPYING";
    public static final String COPIED = "COPIED";

    /** Bytes per second of a finished copy, 0 otherwise. */
    public long bytesPerSecond() {
        return millis <= 0 ? 0 : bytes * 1000 / millis;
    }
}
