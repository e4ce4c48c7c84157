package dev.pgreshard.workflows.preflight;

import dev.pgreshard.core.topology.TableName;

/**
 * A table of the publication, as preflight found it on the source.
 *
 * @param table          the table
 * @param sharded        true when the destination shards it by a key ([[sharded_tables]]); false: omnisharded
 * @param estimatedRows  reltuples summed over source shards (planning only)
 * @param estimatedBytes pg_table_size summed over source shards (planning only)
 */
public record PublishedTable(TableName table, boolean sharded, long estimatedRows, long estimatedBytes) {
}
