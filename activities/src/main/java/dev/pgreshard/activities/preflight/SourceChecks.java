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
import java.util.Arrays;
import java.util.List;

/** The checks of one source shard; each problem is appended as a sentence naming shard, table and fix. */
final class SourceChecks {
    private final Connection c;
    private final Shard shard;
    private final Cluster destination;
    private final String publication;
    private final List<String> problems;

    SourceChecks(Connection c, Shard shard, Cluster destination, String publication, List<String> problems) {
        this.c = c;
        this.shard = shard;
        this.destination = destination;
        this.publication = publication;
        this.problems = problems;
    }

    void walLevel() throws SQLException {
        String level = scalar("SHOW wal_level");
        if (!"logical".equals(level)) {
            problems.add("source " + shard.describe() + " has wal_level = " + level
                    + "; set wal_level = logical in postgresql.conf and restart the server");
        }
    }

    /** Creating slots needs the REPLICATION attribute (or superuser). */
    void replicationRole() throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(
                "SELECT current_user, rolsuper OR rolreplication FROM pg_roles WHERE rolname = current_user")) {
            if (rs.next() && !rs.getBoolean(2)) {
                problems.add("user " + rs.getString(1) + " on source " + shard.describe()
                        + " may not create replication slots; ALTER ROLE " + Identifiers.quote(rs.getString(1))
                        + " REPLICATION");
            }
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
                problems.add("source server of " + shard.describe() + " has " + freeSlots
                        + " free replication slots, needs " + needed + why
                        + "; raise max_replication_slots (restart), drop unused slots, or lower copy_parallelism");
            }
            if (freeSenders < needed) {
                problems.add("source server of " + shard.describe() + " has " + freeSenders
                        + " free wal senders, needs " + needed + why
                        + "; raise max_wal_senders (restart) or lower copy_parallelism");
            }
        }
    }

    /** The publication's tables, or null (with a problem) when the publication is missing. */
    List<TableName> publishedTables() throws SQLException {
        if (!Catalog.publicationExists(c, publication)) {
            problems.add("publication '" + publication + "' does not exist on source " + shard.describe()
                    + "; CREATE PUBLICATION " + Identifiers.quote(publication) + " FOR TABLE ... (or FOR ALL TABLES)");
            return null;
        }
        return Catalog.publishedTables(c, publication);
    }

    /** Checks one published table; returns {estimated rows, bytes}, or null if the table is unusable. */
    long[] table(TableName table) throws SQLException {
        String sql = """
                SELECT c.relreplident, greatest(c.reltuples, 0)::bigint, pg_table_size(c.oid), c.relkind,
                       ARRAY(SELECT a.attname::text FROM pg_index i JOIN pg_attribute a
                             ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey)
                             WHERE i.indrelid = c.oid AND i.indisprimary),
                       ARRAY(SELECT a.attname::text FROM pg_index i JOIN pg_attribute a
                             ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey)
                             WHERE i.indrelid = c.oid AND i.indisreplident)
                FROM pg_class c WHERE c.oid = to_regclass(?)""";
        char identity;
        long[] size;
        List<String> pk;
        List<String> identIndex;
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setString(1, table.quoted());
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    problems.add("table " + table + " of publication '" + publication + "' is not visible on source "
                            + shard.describe() + "; grant the configured user access to it");
                    return null;
                }
                identity = rs.getString(1).charAt(0);
                size = new long[] {rs.getLong(2), rs.getLong(3)};
                if ("p".equals(rs.getString(4))) {
                    problems.add("table " + table + " on source " + shard.describe() + " is partitioned, which this "
                            + "build does not move; publish its partitions instead");
                    return null;
                }
                pk = strings(rs.getArray(5));
                identIndex = strings(rs.getArray(6));
            }
        }
        String fixFull = "ALTER TABLE " + table.quoted() + " REPLICA IDENTITY FULL";
        List<String> identityColumns = switch (identity) {
            case 'd' -> pk;
            case 'i' -> identIndex;
            case 'f' -> null; // every column
            default -> List.of();
        };
        if (identity == 'n') {
            problems.add("table " + table + " on source " + shard.describe() + " has REPLICA IDENTITY NOTHING, so "
                    + "its updates and deletes cannot be replicated: " + fixFull);
        } else if (identity == 'd' && pk.isEmpty()) {
            problems.add("table " + table + " has no primary key on source " + shard.describe() + ": add one or "
                    + fixFull);
        }
        List<Column> columns = Catalog.columns(c, table);
        for (Column col : columns) {
            if (!col.binaryPortable() && !col.generated()) {
                problems.add("column " + table + "." + col.name() + " on source " + shard.describe() + " has type "
                        + col.formattedType() + " (a composite type), whose binary COPY form carries database-specific "
                        + "type OIDs; this build cannot copy it: change the column type or leave the table out of the "
                        + "publication");
            }
        }
        ShardedTable sharded = destination.shardedTable(table).orElse(null);
        if (sharded != null) {
            String keyProblem = Preflight.keyColumnProblem(sharded, columns, shard);
            if (keyProblem != null) {
                problems.add(keyProblem);
            } else if (identityColumns != null && !identityColumns.isEmpty()
                    && !identityColumns.contains(sharded.column())) {
                problems.add("shard-key column " + table + "." + sharded.column() + " is not part of the replica "
                        + "identity " + identityColumns + " on source " + shard.describe()
                        + ", so an update that changes it could not find the old row on its shard: include it in the "
                        + "primary key or " + fixFull);
            }
        }
        return size;
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
