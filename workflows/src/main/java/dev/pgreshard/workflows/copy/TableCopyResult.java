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
 */
public record TableCopyResult(TableName table, long rows, long bytes, long millis, List<ShardSnapshot> snapshots) {
}
