package dev.pgreshard.workflows.copy;

import dev.pgreshard.core.topology.TableName;

import java.util.List;

/**
 * A finished table copy.
 *
 * @param table        the table
 * @param rows         rows written (over all destination shards)
 * @param bytes        COPY bytes read from the source
 * @param millis       wall time of the successful attempt
 * @param snapshots    per source shard, the LSN of the snapshot the copy read: replication skips this
 *                     table's changes in transactions that committed before it (the snapshot has them)
 * @param workers      which worker(s) copied it and at what rate, e.g. "1234@host: 2 ranges at 5000000 B/s"
 *                     (empty in histories recorded before issue 21)
 */
public record TableCopyResult(TableName table, long rows, long bytes, long millis, List<ShardSnapshot> snapshots,
                              String workers) {

    public TableCopyResult(TableName table, long rows, long bytes, long millis, List<ShardSnapshot> snapshots) {
        this(table, rows, bytes, millis, snapshots, "");
    }

    public TableCopyResult {
        workers = workers == null ? "" : workers;
    }

    public TableCopyResult withWorkers(String copiedBy) {
        return new TableCopyResult(table, rows, bytes, millis, snapshots, copiedBy);
    }
}
