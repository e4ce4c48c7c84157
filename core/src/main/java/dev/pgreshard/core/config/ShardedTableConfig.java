package dev.pgreshard.core.config;

/**
 * One {@code [[sharded_tables]]} entry. {@code name} and {@code column} are catalog names, matched
 * exactly; {@code name} may be {@code schema.table}.
 */
public record ShardedTableConfig(String database, String name, String column, String dataType) {
}
