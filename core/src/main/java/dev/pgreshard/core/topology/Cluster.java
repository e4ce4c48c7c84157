package dev.pgreshard.core.topology;

import dev.pgreshard.core.sharding.ShardFunction;

import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A named group of shards ({@code [[databases]]} entries with one {@code name}) and the tables sharded
 * across them. A table of the cluster that is not sharded is omnisharded: whole on every shard.
 */
public record Cluster(String name, List<Shard> shards, Map<TableName, ShardedTable> shardedTables) {
    public Cluster {
        shards = List.copyOf(shards);
        shardedTables = Map.copyOf(shardedTables);
    }

    public int shardCount() {
        return shards.size();
    }

    public Shard shard(int index) {
        return shards.get(index);
    }

    public Optional<ShardedTable> shardedTable(TableName table) {
        return Optional.ofNullable(shardedTables.get(table));
    }

    public boolean isSharded(TableName table) {
        return shardedTables.containsKey(table);
    }

    /** The sharding function of {@code table} over this cluster's shards, if the table is sharded. */
    public Optional<ShardFunction> shardFunction(TableName table) {
        return shardedTable(table).map(t -> new ShardFunction(t.keyType(), shardCount()));
    }
}
