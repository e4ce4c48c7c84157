package dev.pgreshard.activities.replication;

import dev.pgreshard.activities.replication.pgoutput.PgOutputMessage.Column;

import dev.pgreshard.core.topology.TableName;

import java.sql.SQLException;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Checks a table's shape, as the source describes it in a Relation message, against every
 * destination shard: the table must exist there with every column the source sends. Anything
 * else is schema drift, reported naming table, column and shard, never applied silently.
 */
final class SchemaCheck {
    private static final String COLUMNS = "SELECT c.oid IS NOT NULL, a.attname, a.attidentity = 'a' FROM (SELECT to_regclass(?) AS oid) c"
            + " LEFT JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped";

    private final List<ShardApplier> shards;

    SchemaCheck(List<ShardApplier> shards) {
        this.shards = shards;
    }

    /**
     * Verifies the table of {@code relation} on every shard and returns its columns that are
     * {@code GENERATED ALWAYS AS IDENTITY} on some shard: a replicated value for them must be
     * inserted with {@code OVERRIDING SYSTEM VALUE} and can never be assigned by UPDATE.
     */
    Set<String> verify(TableName table, List<Column> columns) throws SQLException {
        Set<String> generatedAlways = new HashSet<>();
        for (ShardApplier shard : shards) {
            Set<String> present = new HashSet<>();
            boolean exists = shard.query(COLUMNS, List.of(table.quoted()), rs -> {
                boolean found = false;
                while (rs.next()) {
                    found = rs.getBoolean(1);
                    if (rs.getString(2) != null) {
                        present.add(rs.getString(2));
                        if (rs.getBoolean(3)) {
                            generatedAlways.add(rs.getString(2));
                        }
                    }
                }
                return found;
            });
            if (!exists) {
                throw new SchemaDriftException("schema drift: table " + table + " is replicated from the source "
                        + "but does not exist on " + shard.shard().describe() + "; create it there (schema-sync) and retry");
            }
            for (Column c : columns) {
                if (!present.contains(c.name())) {
                    throw new SchemaDriftException("schema drift: column \"" + c.name() + "\" of table " + table
                            + " exists on the source but not on " + shard.shard().describe() + "; add it there (ALTER TABLE "
                            + table.quoted() + " ADD COLUMN ...) on every destination shard and retry");
                }
            }
        }
        return generatedAlways;
    }
}
