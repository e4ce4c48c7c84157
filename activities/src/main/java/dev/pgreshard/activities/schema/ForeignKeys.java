package dev.pgreshard.activities.schema;

import dev.pgreshard.core.topology.Cluster;
import dev.pgreshard.core.topology.ShardedTable;
import dev.pgreshard.core.topology.TableName;

import java.sql.Array;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Which foreign keys can hold on the destination. A foreign key is checked by each shard on its
 * own, so it holds only when every referenced row is on the referencing row's shard:
 * the referenced table is omnisharded (whole on every shard), or both tables are sharded and the
 * key maps the child's shard-key column onto the parent's shard-key column (same type, so the same
 * hash). An omnisharded table referencing a sharded one, a sharded table referencing a table
 * sharded by another column, or a reference to a table outside the publication cannot hold.
 */
public final class ForeignKeys {
    /** A foreign key of a published table on the source. */
    public record ForeignKey(TableName table, String name, TableName referenced, List<String> columns,
                      List<String> referencedColumns) {
        /** The TOC entry name pg_dump gives it ("table constraint"). */
        String dumpName() {
            return table.name() + " " + name;
        }
    }

    private ForeignKeys() {
    }

    public static List<ForeignKey> of(Connection c, Set<TableName> tables) throws SQLException {
        List<ForeignKey> keys = new ArrayList<>();
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("""
                SELECT n.nspname, cl.relname, con.conname, fn.nspname, f.relname,
                       ARRAY(SELECT a.attname::text FROM unnest(con.conkey) WITH ORDINALITY k(n, i)
                             JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.n ORDER BY k.i),
                       ARRAY(SELECT a.attname::text FROM unnest(con.confkey) WITH ORDINALITY k(n, i)
                             JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.n ORDER BY k.i)
                FROM pg_constraint con
                JOIN pg_class cl ON cl.oid = con.conrelid JOIN pg_namespace n ON n.oid = cl.relnamespace
                JOIN pg_class f ON f.oid = con.confrelid JOIN pg_namespace fn ON fn.oid = f.relnamespace
                WHERE con.contype = 'f'""")) {
            while (rs.next()) {
                TableName table = new TableName(rs.getString(1), rs.getString(2));
                if (tables.contains(table)) {
                    keys.add(new ForeignKey(table, rs.getString(3), new TableName(rs.getString(4), rs.getString(5)),
                            strings(rs.getArray(6)), strings(rs.getArray(7))));
                }
            }
        }
        return keys;
    }

    /** Why {@code fk} cannot hold on {@code destination}, or empty when it can. */
    public static Optional<String> whyNotColocated(ForeignKey fk, Cluster destination, Set<TableName> moved) {
        if (!moved.contains(fk.referenced())) {
            return Optional.of(fk.referenced() + " is not in the publication");
        }
        Optional<ShardedTable> parent = destination.shardedTable(fk.referenced());
        Optional<ShardedTable> child = destination.shardedTable(fk.table());
        if (parent.isEmpty()) {
            return Optional.empty();
        }
        if (child.isEmpty()) {
            return Optional.of(fk.table() + " is omnisharded but " + fk.referenced() + " is sharded");
        }
        if (child.get().keyType() != parent.get().keyType()) {
            return Optional.of("the shard keys have different types");
        }
        for (int i = 0; i < fk.columns().size(); i++) {
            if (fk.columns().get(i).equals(child.get().column())
                    && fk.referencedColumns().get(i).equals(parent.get().column())) {
                return Optional.empty();
            }
        }
        return Optional.of("it does not map " + fk.table() + "." + child.get().column() + " onto "
                + fk.referenced() + "." + parent.get().column() + " (the tables are not co-located)");
    }

    private static List<String> strings(Array array) throws SQLException {
        return array == null ? List.of() : Arrays.asList((String[]) array.getArray());
    }
}
