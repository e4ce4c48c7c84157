package dev.pgreshard.cli.load;

import dev.pgreshard.core.topology.TableName;

/**
 * The table a {@link WriteLoad} writes: {@code id} (primary key), {@code tenant_id} (the shard key),
 * {@code client} and {@code version}. Ids are unique per (client, sequence number); each client owns
 * {@link #TENANTS_PER_CLIENT} tenants.
 */
public record LoadTable(TableName name) {
    /** How many tenants each client cycles over. */
    public static final int TENANTS_PER_CLIENT = 50;
    private static final long IDS_PER_CLIENT = 1_000_000_000L;

    public static LoadTable of(String qualifiedName) {
        return new LoadTable(TableName.parse(qualifiedName));
    }

    /**
     * CREATE TABLE for the source (and, through schema sync, for the destination); the shard key is
     * part of the primary key, so the replica identity covers it.
     */
    public String ddl() {
        return "CREATE TABLE " + name.quoted() + " (id bigint NOT NULL, tenant_id bigint NOT NULL, client int NOT NULL, "
                + "version int NOT NULL DEFAULT 0, written_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (tenant_id, id))";
    }

    /** The [[sharded_tables]] column. */
    public static String shardKey() {
        return "tenant_id";
    }

    String insertSql() {
        return "INSERT INTO " + name.quoted() + " (id, tenant_id, client) VALUES (?, ?, ?)";
    }

    String bumpSql() {
        return "UPDATE " + name.quoted() + " SET version = version + 1 WHERE id = ? AND tenant_id = ?";
    }

    String selectSql() {
        return "SELECT id, version FROM " + name.quoted() + " WHERE id = ANY (?)";
    }

    static long rowId(int client, long seq) {
        return client * IDS_PER_CLIENT + seq;
    }

    static long tenantOf(int client, int slot) {
        return 1000L * (client + 1) + slot;
    }
}
