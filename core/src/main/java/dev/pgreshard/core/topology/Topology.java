package dev.pgreshard.core.topology;

import dev.pgreshard.core.config.ConfigException;
import dev.pgreshard.core.config.DatabaseConfig;
import dev.pgreshard.core.config.PgReshardConfig;
import dev.pgreshard.core.config.ShardedTableConfig;
import dev.pgreshard.core.sharding.ShardKeyType;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** Every cluster of a configuration, by name. Built from an already validated config. */
public final class Topology {
    private final String source;
    private final Map<String, Cluster> clusters;

    private Topology(String source, Map<String, Cluster> clusters) {
        this.source = source;
        this.clusters = clusters;
    }

    public static Topology of(PgReshardConfig config) {
        Map<String, List<Shard>> shards = new LinkedHashMap<>();
        for (DatabaseConfig d : config.databases()) {
            shards.computeIfAbsent(d.name(), n -> new ArrayList<>())
                    .add(new Shard(d.name(), d.shard(), d.host(), d.port(), d.databaseName()));
        }
        Map<String, Map<TableName, ShardedTable>> tables = new HashMap<>();
        for (ShardedTableConfig t : config.shardedTables()) {
            ShardKeyType type = ShardKeyType.fromConfig(t.dataType()).orElseThrow();
            TableName name = TableName.parse(t.name());
            tables.computeIfAbsent(t.database(), n -> new HashMap<>()).put(name, new ShardedTable(name, t.column(), type));
        }
        Map<String, Cluster> clusters = new LinkedHashMap<>();
        shards.forEach((name, list) -> {
            list.sort(Comparator.comparingInt(Shard::index));
            clusters.put(name, new Cluster(name, list, tables.getOrDefault(name, Map.of())));
        });
        return new Topology(config.source(), clusters);
    }

    /** The cluster called {@code name}, or an error naming the known ones. */
    public Cluster cluster(String name) {
        Cluster c = clusters.get(name);
        if (c == null) {
            throw new ConfigException("unknown database '" + name + "': " + source + " defines "
                    + String.join(", ", clusters.keySet()) + "; use one of those names or add [[databases]] entries");
        }
        return c;
    }

    public Set<String> clusterNames() {
        return clusters.keySet();
    }
}
