package dev.pgreshard.activities.preflight;

import dev.pgreshard.activities.schema.ForeignKeys;
import dev.pgreshard.core.topology.Cluster;
import dev.pgreshard.core.topology.TableName;

import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * What schema sync will create on each destination shard, read from source shard 0's catalog
 * (schema sync dumps that shard): per table its indexes and constraints (built after the copy),
 * the triggers it leaves out, and the foreign keys it skips because they cannot hold on shards
 * (the same rule schema sync applies: {@link ForeignKeys#whyNotColocated}).
 */
final class SchemaPreview {
    private final List<String> lines;
    private final List<String> skippedForeignKeys;

    private SchemaPreview(List<String> lines, List<String> skippedForeignKeys) {
        this.lines = lines;
        this.skippedForeignKeys = skippedForeignKeys;
    }

    static SchemaPreview of(Connection c, List<TableName> tables, Cluster destination) throws SQLException {
        List<String> lines = new ArrayList<>();
        Set<TableName> moved = new HashSet<>(tables);
        List<String> skipped = new ArrayList<>();
        List<String> kept = new ArrayList<>();
        for (ForeignKeys.ForeignKey fk : ForeignKeys.of(c, moved)) {
            var why = ForeignKeys.whyNotColocated(fk, destination, moved);
            if (why.isPresent()) {
                skipped.add("foreign key " + fk.name() + " of " + fk.table() + " → " + fk.referenced() + ": " + why.get());
            } else {
                kept.add(fk.name() + " (" + fk.table() + " → " + fk.referenced() + ")");
            }
        }
        for (TableName t : tables) {
            try (PreparedStatement ps = c.prepareStatement("""
                    SELECT (SELECT count(*) FROM pg_index i WHERE i.indrelid = c.oid),
                           (SELECT count(*) FROM pg_constraint k WHERE k.conrelid = c.oid AND k.contype IN ('c', 'x')),
                           ARRAY(SELECT tg.tgname::text FROM pg_trigger tg WHERE tg.tgrelid = c.oid AND NOT tg.tgisinternal
                                 ORDER BY 1)
                    FROM pg_class c WHERE c.oid = to_regclass(?)""")) {
                ps.setString(1, t.quoted());
                try (ResultSet rs = ps.executeQuery()) {
                    if (!rs.next()) {
                        continue;
                    }
                    StringBuilder b = new StringBuilder(t.toString()).append(": the table (before the copy)");
                    long indexes = rs.getLong(1);
                    long checks = rs.getLong(2);
                    if (indexes + checks > 0) {
                        b.append("; after the copy ").append(indexes).append(indexes == 1 ? " index" : " indexes")
                                .append(" (primary key and unique constraints included)");
                        if (checks > 0) {
                            b.append(" and ").append(checks).append(" check/exclusion constraint").append(checks == 1 ? "" : "s");
                        }
                    }
                    List<String> triggers = strings(rs.getArray(3));
                    if (!triggers.isEmpty()) {
                        b.append("; triggers ").append(triggers).append(" are NOT created (they would fire again for "
                                + "replicated changes): create them after the cutover");
                    }
                    lines.add(b.toString());
                }
            }
        }
        if (!kept.isEmpty()) {
            lines.add("foreign keys that hold on shards (after the copy): " + String.join(", ", kept));
        }
        lines.add("sequences used by the tables, enum and domain types they use, and their schemas when missing");
        return new SchemaPreview(List.copyOf(lines), List.copyOf(skipped));
    }

    List<String> lines() {
        return lines;
    }

    List<String> skippedForeignKeys() {
        return skippedForeignKeys;
    }

    private static List<String> strings(Array array) throws SQLException {
        return array == null ? List.of() : Arrays.asList((String[]) array.getArray());
    }
}
