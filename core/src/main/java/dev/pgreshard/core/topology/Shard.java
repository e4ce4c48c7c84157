package dev.pgreshard.core.topology;

/**
 * One shard of a cluster: where it lives. Carries no credentials; those are resolved from the
 * worker's own users.toml when a connection is opened.
 */
public record Shard(String cluster, int index, String host, int port, String databaseName) {

    /** {@code jdbc:postgresql://host:port/db}. */
    public String jdbcUrl() {
        String h = host.contains(":") && !host.startsWith("[") ? "[" + host + "]" : host;
        return "jdbc:postgresql://" + h + ":" + port + "/" + databaseName;
    }

    /** "prod_sharded shard 1 (10.0.0.3:5432/app)", for messages. */
    public String describe() {
        return cluster + " shard " + index + " (" + host + ":" + port + "/" + databaseName + ")";
    }
}
