package dev.pgreshard.cli.load;

import dev.pgreshard.core.topology.TableName;

/**
 * A table a {@link WriteLoad} writes: {@code id} (primary key), {@code tenant_id} (the shard key),
 * {@code client} and {@code version}. Each client owns {@link #TENANTS_PER_CLIENT} tenants. The
 * load's main table has ids chosen by the client (unique per client and sequence number); the
 * tables of {@link Ids#SERIAL} and {@link Ids#IDENTITY} have theirs assigned by the database
 * ({@code INSERT ... RETURNING id}), as an application would. A {@link Ids#KEYED_BY_ID} table is sharded
 * by that id ({@link #key}).
 */
public record LoadTable(TableName name, Ids ids) {
    /** Who assigns a new row's id. */
    public enum Ids {
        /** the client ({@link #rowId}) */
        CLIENT,
        /** the database: {@code id bigserial} */
        SERIAL,
        /** the database: {@code id bigint GENERATED ALWAYS AS IDENTITY} */
        IDENTITY,
        /**
         * the database: {@code id bigserial}, and {@code id} is the shard key, so a sharded proxy draws it
         * itself (INSERT without the shard key) and routes the row by it
         */
        KEYED_BY_ID
    }

    /** How many tenants each client cycles over. */
    public static final int TENANTS_PER_CLIENT = 50;
    private static final long IDS_PER_CLIENT = 1_000_000_000L;

    public static LoadTable of(String qualifiedName) {
        return new LoadTable(TableName.parse(qualifiedName), Ids.CLIENT);
    }

    /** A table whose ids the database assigns ({@link Ids#SERIAL} or {@link Ids#IDENTITY}). */
    public static LoadTable assigned(String qualifiedName, Ids ids) {
        return new LoadTable(TableName.parse(qualifiedName), ids);
    }

    /** True when the database assigns the ids. */
    public boolean databaseAssignsIds() {
        return ids != Ids.CLIENT;
    }

    /**
     * CREATE TABLE for the source (and, through schema sync, for the destination); the shard key is
     * part of the primary key, so the replica identity covers it.
     */
    public String ddl() {
        return switch (ids) {
            case CLIENT -> "CREATE TABLE " + name.quoted() + " (id bigint NOT NULL, tenant_id bigint NOT NULL, "
                    + "client int NOT NULL, version int NOT NULL DEFAULT 0, written_at timestamptz NOT NULL DEFAULT now(), "
                    + "PRIMARY KEY (tenant_id, id))";
            // the key (tenant_id, id) covers the shard key (replica identity); UNIQUE (id) makes an id drawn on
            // two shards break reverse replication into the source, as it would break the application there
            case SERIAL, IDENTITY -> "CREATE TABLE " + name.quoted() + " (id " + (ids == Ids.SERIAL ? "bigserial"
                    : "bigint GENERATED ALWAYS AS IDENTITY") + ", tenant_id bigint NOT NULL, client int NOT NULL, "
                    + "version int NOT NULL DEFAULT 0, written_at timestamptz NOT NULL DEFAULT now(), "
                    + "PRIMARY KEY (tenant_id, id), UNIQUE (id))";
            case KEYED_BY_ID -> "CREATE TABLE " + name.quoted() + " (id bigserial PRIMARY KEY, tenant_id bigint NOT NULL, "
                    + "client int NOT NULL, version int NOT NULL DEFAULT 0, written_at timestamptz NOT NULL DEFAULT now())";
        };
    }

    /** The [[sharded_tables]] column of the load's tables but {@link Ids#KEYED_BY_ID} ones. */
    public static String shardKey() {
        return "tenant_id";
    }

    /** This table's [[sharded_tables]] column. */
    public String key() {
        return ids == Ids.KEYED_BY_ID ? "id" : shardKey();
    }

    /** Client ids: (id, tenant, client); database ids: (tenant, client), returning the id. */
    String insertSql() {
        return databaseAssignsIds() ? "INSERT INTO " + name.quoted() + " (tenant_id, client) VALUES (?, ?) RETURNING id"
                : "INSERT INTO " + name.quoted() + " (id, tenant_id, client) VALUES (?, ?, ?)";
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
