package dev.pgreshard.core.topology;

import dev.pgreshard.core.sharding.ShardKeyType;

/** A table of a cluster whose rows are spread over its shards by {@code column}. */
public record ShardedTable(TableName table, String column, ShardKeyType keyType) {
}
