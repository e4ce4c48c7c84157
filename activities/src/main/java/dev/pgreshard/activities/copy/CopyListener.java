package dev.pgreshard.activities.copy;

import dev.pgreshard.core.topology.TableName;

/**
 * Progress of a table copy, called about once a second on the thread that called
 * {@link TableCopier#copy}: the activity heartbeats it, the CLI draws a progress bar. Throwing
 * (e.g. Temporal's cancellation from a heartbeat) aborts the copy.
 */
public interface CopyListener {
    CopyListener NONE = (table, rows, bytes) -> { };

    /** @param rows rows written to destination shards so far; @param bytes COPY bytes read from the source so far */
    void progress(TableName table, long rows, long bytes);

    /** The table's block ranges: {@code finished} of {@code total} copied (called before each progress report). */
    default void ranges(TableName table, int finished, int total) {
    }
}
