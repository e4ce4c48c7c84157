package dev.pgreshard.activities.catalog;

import dev.pgreshard.core.topology.Cluster;
import dev.pgreshard.core.topology.Shard;
import dev.pgreshard.core.topology.TableName;

import java.util.List;

/**
 * Which source shards hold a table's rows. A table the source cluster shards ([[sharded_tables]]
 * of the source) has a part on every shard; any other table of a multi-shard source is omnisharded
 * there, a full copy on every shard, so it is read from shard 0 only (reading every shard would
 * duplicate its rows). Preflight checks those copies really have the same row count.
 */
public final class SourceShards {
    private SourceShards() {
    }

    public static List<Shard> holding(Cluster source, TableName table) {
        return source.shardCount() > 1 && !source.isSharded(table) ? List.of(source.shard(0)) : source.shards();
    }

    public static boolean omnisharded(Cluster source, TableName table) {
        return source.shardCount() > 1 && !source.isSharded(table);
    }
}
