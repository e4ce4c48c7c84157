package dev.pgreshard.workflows.reshard;

import dev.pgreshard.core.topology.TableName;

/**
 * Copy progress of one table as the workflow knows it: PENDING, COPYING, or COPIED with its totals and
 * {@code workers}, which worker(s) copied it at what rate. (Live row counts and placement of a table
 * being copied are in its activities' heartbeats: `status` reads them from Temporal.)
 */
public record TableProgress(TableName table, String state, long rows, long bytes, long millis, String workers) {

    public TableProgress(TableName table, String state, long rows, long bytes, long millis) {
        this(table, state, rows, bytes, millis, "");
    }

    public TableProgress {
        workers = workers == null ? "" : workers;
    }

    public static final String PENDING = "PENDING";
    public static final String COPYING = "COPYING";
    public static final String COPIED = "COPIED";

    /** Bytes per second of a finished copy, 0 otherwise. */
    public long bytesPerSecond() {
        return millis <= 0 ? 0 : bytes * 1000 / millis;
    }
}
