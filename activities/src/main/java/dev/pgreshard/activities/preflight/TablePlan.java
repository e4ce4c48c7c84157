package dev.pgreshard.activities.preflight;

import dev.pgreshard.core.topology.TableName;

/**
 * One published table as the plan sees it.
 *
 * @param table           the table
 * @param sharded         true when the destination shards it ([[sharded_tables]]); false: omnisharded
 * @param shardKey        the shard-key column, or empty when omnisharded
 * @param keyType         the configured key type (bigint, integer, text, varchar, uuid), or empty
 * @param estimatedRows   reltuples summed over the source shards (an estimate: ANALYZE refreshes it)
 * @param estimatedBytes  pg_table_size summed over the source shards
 * @param replicaIdentity what identifies a row to logical replication, e.g. {@code primary key (id)}
 * @param onDestination   what schema sync will do about it on the destination shards
 */
public record TablePlan(TableName table, boolean sharded, String shardKey, String keyType, long estimatedRows,
                        long estimatedBytes, String replicaIdentity, String onDestination) {
}
