package dev.pgreshard.core.config;

/**
 * One {@code [[databases]]} entry: one shard of a cluster. Entries with the same {@code name} form
 * a cluster; their {@code shard} numbers run 0..N-1.
 */
public record DatabaseConfig(String name, String host, Integer port, String databaseName, Integer shard) {
    public DatabaseConfig {
        port = port == null ? 5432 : port;
        shard = shard == null ? 0 : shard;
        databaseName = databaseName == null ? name : databaseName;
    }
}
