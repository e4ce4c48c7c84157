package dev.pgreshard.activities.preflight;

import dev.pgreshard.activities.catalog.Catalog;
import dev.pgreshard.activities.catalog.Column;
import dev.pgreshard.core.pg.Identifiers;
import dev.pgreshard.core.topology.Cluster;
import dev.pgreshard.core.topology.Shard;
import dev.pgreshard.core.topology.ShardedTable;
import dev.pgreshard.core.topology.TableName;

import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/** The checks of one source shard; each problem is recorded naming shard and table, with its fix. */
final class SourceChecks {
    /** What one source shard says about a published table. */
    record SourceTable(long estimatedRows, long estimatedBytes, String replicaIdentity) {
    }

    private final Connection c;
    private final Shard shard;
    private final Cluster destination;
    private final String publication;
    private final Findings findings;

    SourceChecks(Connection c, Shard shard, Cluster destination, String publication, Findings findings) {
        this.c = c;
        this.shard = shard;
        this.destination = destination;
        this.publication = publication;
        this.findings = findings;
    }

    void walLevel() throws SQLException {
        String level = scalar("SHOW wal_level");
        if (!"logical".equals(level)) {
            findings.block("source " + shard.describe() + " has wal_level = " + level,
                    "ALTER SYSTEM SET wal_level = logical; (as a superuser) then restart the server");
        }
    }

    /**
     * One permanent slot per source shard plus one temporary slot (and a walsender each) per table
     * copied at once. Slots and senders are per server, so shards sharing a server add up.
     */
    void freeSlots(int needed, int parallelism) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("""
                SELECT current_setting('max_replication_slots')::int - (SELECT count(*) FROM pg_replication_slots),
                       current_setting('max_wal_senders')::int
                         - (SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'walsender')""")) {
            rs.next();
            int freeSlots = rs.getInt(1);
            int freeSenders = rs.getInt(2);
            String why = " (1 permanent slot per source shard + " + parallelism + " for parallel copy)";
            if (freeSlots < needed) {
                findings.block("source server of " + shard.describe() + " has " + freeSlots
                        + " free replication slots, needs " + needed + why,
                        "raise max_replication_slots (restart), drop unused slots, or lower copy_parallelism");
            }
            if (freeSenders < needed) {
                findings.block("source server of " + shard.describe() + " has " + freeSenders
                        + " free wal senders, needs " + needed + why,
                        "raise max_wal_senders (restart) or lower copy_parallelism");
            }
        }
    }

    /** The publication's tables, or null (with a blocker) when the publication is missing. */
    List<TableName> publishedTables() throws SQLException {
        if (!Catalog.publicationExists(c, publication)) {
            findings.block("publication '" + publication + "' does not exist on source " + shard.describe(),
                    "CREATE PUBLICATION " + Identifiers.quote(publication) + " FOR TABLE ...; (or FOR ALL TABLES)");
            return null;
        }
        return Catalog.publishedTables(c, publication);
    }

    /** Checks one published table; null when the table is unusable (a blocker says why). */
    SourceTable table(TableName table) throws SQLException {
        ShardedTable sharded = destination.shardedTable(table).orElse(null);
        String sql = """
                SELECT c.relreplident, greatest(c.reltuples, 0)::bigint, pg_table_size(c.oid), c.relkind,
                       ARRAY(SELECT a.attname::text FROM pg_index i JOIN pg_attribute a
                             ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey)
                             WHERE i.indrelid = c.oid AND i.indisprimary),
                       ARRAY(SELECT a.attname::text FROM pg_index i JOIN pg_attribute a
                             ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey)
                             WHERE i.indrelid = c.oid AND i.indisreplident),
                       (SELECT a.attnotnull FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = ?),
                       (SELECT i.indexrelid::regclass::text FROM pg_index i WHERE i.indrelid = c.oid AND i.indisreplident)
                FROM pg_class c WHERE c.oid = to_regclass(?)""";
        char identity;
        long rows;
        long bytes;
        List<String> pk;
        List<String> identIndex;
        boolean keyNotNull;
        String identIndexName;
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setString(1, sharded == null ? "" : sharded.column());
            ps.setString(2, table.quoted());
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    findings.block("table " + table + " of publication '" + publication + "' is not visible on source "
                            + shard.describe(), "grant the configured user access to its schema: GRANT USAGE ON SCHEMA "
                            + Identifiers.quote(table.schema()) + " TO <user>;");
                    return null;
                }
                identity = rs.getString(1).charAt(0);
                rows = rs.getLong(2);
                bytes = rs.getLong(3);
                if ("p".equals(rs.getString(4))) {
                    findings.block("table " + table + " on source " + shard.describe() + " is partitioned, which this "
                            + "build does not move", "publish its partitions instead: ALTER PUBLICATION "
                            + Identifiers.quote(publication) + " DROP TABLE " + table.quoted() + "; ALTER PUBLICATION "
                            + Identifiers.quote(publication) + " ADD TABLE <each partition>;");
                    return null;
                }
                pk = strings(rs.getArray(5));
                identIndex = strings(rs.getArray(6));
                keyNotNull = rs.getBoolean(7);
                identIndexName = rs.getString(8);
            }
        }
        String fixFull = "ALTER TABLE " + table.quoted() + " REPLICA IDENTITY FULL;";
        List<String> identityColumns = switch (identity) {
            case 'd' -> pk;
            case 'i' -> identIndex;
            case 'f' -> null; // every column
            default -> List.of();
        };
        String described = switch (identity) {
            case 'd' -> pk.isEmpty() ? "none (no primary key)" : "primary key " + pk;
            case 'i' -> "index " + identIndexName + " " + identIndex;
            case 'f' -> "FULL (every column)";
            default -> "NOTHING";
        };
        if (identity == 'n') {
            findings.block("table " + table + " on source " + shard.describe() + " has REPLICA IDENTITY NOTHING, so "
                    + "its updates and deletes cannot be replicated", "ALTER TABLE " + table.quoted()
                    + " REPLICA IDENTITY DEFAULT; (with a primary key) or " + fixFull);
        } else if (identity == 'd' && pk.isEmpty()) {
            findings.block("table " + table + " has no primary key on source " + shard.describe()
                    + ", so its updates and deletes cannot be replicated",
                    "add one (ALTER TABLE " + table.quoted() + " ADD PRIMARY KEY (...);) or " + fixFull);
        }
        List<Column> columns = Catalog.columns(c, table);
        for (Column col : columns) {
            if (!col.binaryPortable() && !col.generated()) {
                findings.block("column " + table + "." + col.name() + " on source " + shard.describe() + " has type "
                        + col.formattedType() + " (a composite type), whose binary COPY form carries database-specific "
                        + "type OIDs; this build cannot copy it", "change the column type or leave the table out of the "
                        + "publication: ALTER PUBLICATION " + Identifiers.quote(publication) + " DROP TABLE "
                        + table.quoted() + ";");
            }
        }
        if (sharded != null) {
            String keyProblem = Preflight.keyColumnProblem(sharded, columns, shard);
            if (keyProblem != null) {
                int split = keyProblem.lastIndexOf("; ");
                findings.block(keyProblem.substring(0, split), keyProblem.substring(split + 2));
            } else if (identityColumns != null && !identityColumns.isEmpty()
                    && !identityColumns.contains(sharded.column())) {
                findings.block("shard-key column " + table + "." + sharded.column() + " is not part of the replica "
                        + "identity " + identityColumns + " on source " + shard.describe() + ", so an update or "
                        + "delete could not find the old row on its shard (" + fixFull + " would also do, at the "
                        + "cost of matching every column)", identityFix(table, sharded.column(), identityColumns,
                        keyNotNull));
            }
        }
        return new SourceTable(rows, bytes, described);
    }

    /**
     * The usual fix of a shard key outside the replica identity: a unique index on the identity's
     * columns plus the key (unique because the identity already is), made the replica identity.
     * Built CONCURRENTLY so writes go on; the key must be NOT NULL for REPLICA IDENTITY USING INDEX.
     */
    static String identityFix(TableName table, String key, List<String> identityColumns, boolean keyNotNull) {
        List<String> cols = new ArrayList<>(identityColumns);
        cols.add(key);
        String index = indexName(table.name() + "_" + String.join("_", cols) + "_key");
        StringBuilder b = new StringBuilder();
        if (!keyNotNull) {
            b.append("ALTER TABLE ").append(table.quoted()).append(" ALTER COLUMN ").append(Identifiers.quote(key))
                    .append(" SET NOT NULL; ");
        }
        b.append("CREATE UNIQUE INDEX CONCURRENTLY ").append(Identifiers.quote(index)).append(" ON ")
                .append(table.quoted()).append(" (")
                .append(String.join(", ", cols.stream().map(Identifiers::quote).toList())).append("); ");
        b.append("ALTER TABLE ").append(table.quoted()).append(" REPLICA IDENTITY USING INDEX ")
                .append(Identifiers.quote(index)).append(';');
        return b.toString();
    }

    /** PostgreSQL truncates names to 63 bytes; truncate here so the two statements name the same index. */
    private static String indexName(String name) {
        byte[] utf8 = name.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        if (utf8.length <= 63) {
            return name;
        }
        int end = name.length();
        while (name.substring(0, end).getBytes(java.nio.charset.StandardCharsets.UTF_8).length > 63) {
            end--;
        }
        return name.substring(0, end);
    }

    private String scalar(String sql) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getString(1);
        }
    }

    private static List<String> strings(Array array) throws SQLException {
        return array == null ? List.of() : Arrays.asList((String[]) array.getArray());
    }
}
