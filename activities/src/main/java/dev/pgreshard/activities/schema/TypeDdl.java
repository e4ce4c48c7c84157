package dev.pgreshard.activities.schema;

import dev.pgreshard.core.pg.Identifiers;
import dev.pgreshard.core.topology.TableName;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.StringJoiner;

/**
 * CREATE TYPE / CREATE DOMAIN for the enum and domain types the published tables use (through
 * arrays and domains too), dependencies first. pg_dump cannot select single types ({@code -t}
 * dumps no types at all), so these few are written from the catalog here.
 */
final class TypeDdl {
    private TypeDdl() {
    }

    /** Steps for every user-defined enum/domain the tables' columns need, dependencies first. */
    static List<DdlStep> forTables(Connection c, List<TableName> tables, Set<String> schemas) throws SQLException {
        Set<Long> ordered = new LinkedHashSet<>();
        for (TableName t : tables) {
            try (PreparedStatement ps = c.prepareStatement("SELECT a.atttypid FROM pg_attribute a "
                    + "WHERE a.attrelid = to_regclass(?) AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum")) {
                ps.setString(1, t.quoted());
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        visit(c, rs.getLong(1), ordered, new LinkedHashSet<>());
                    }
                }
            }
        }
        List<DdlStep> steps = new ArrayList<>();
        for (long oid : ordered) {
            steps.add(step(c, oid, schemas));
        }
        return steps;
    }

    /** Depth-first: a domain's base type and an array's element come before the type itself. */
    private static void visit(Connection c, long oid, Set<Long> ordered, Set<Long> path) throws SQLException {
        if (ordered.contains(oid) || !path.add(oid)) {
            return;
        }
        try (PreparedStatement ps = c.prepareStatement(
                "SELECT typtype, typelem, typbasetype, oid >= 16384 FROM pg_type WHERE oid = ?")) {
            ps.setLong(1, oid);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    return;
                }
                String kind = rs.getString(1);
                long elem = rs.getLong(2);
                long base = rs.getLong(3);
                boolean user = rs.getBoolean(4);
                if (elem != 0) {
                    visit(c, elem, ordered, path);
                }
                if (base != 0) {
                    visit(c, base, ordered, path);
                }
                if (user && ("e".equals(kind) || "d".equals(kind))) {
                    ordered.add(oid);
                }
            }
        }
    }

    private static DdlStep step(Connection c, long oid, Set<String> schemas) throws SQLException {
        String name;
        String kind;
        String sql;
        try (PreparedStatement ps = c.prepareStatement("""
                SELECT n.nspname, t.typname, t.typtype, format_type(t.typbasetype, t.typtypmod), t.typnotnull,
                       pg_get_expr(t.typdefaultbin, 0), co.collname, cn.nspname
                FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
                LEFT JOIN pg_collation co ON co.oid = t.typcollation AND t.typcollation <> 100
                    AND t.typcollation <> (SELECT b.typcollation FROM pg_type b WHERE b.oid = t.typbasetype)
                LEFT JOIN pg_namespace cn ON cn.oid = co.collnamespace
                WHERE t.oid = ?""")) {
            ps.setLong(1, oid);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                schemas.add(rs.getString(1));
                name = Identifiers.quote(rs.getString(1)) + "." + Identifiers.quote(rs.getString(2));
                kind = rs.getString(3);
                if ("e".equals(kind)) {
                    sql = "CREATE TYPE " + name + " AS ENUM (" + enumLabels(c, oid) + ");";
                } else {
                    StringBuilder b = new StringBuilder("CREATE DOMAIN " + name + " AS " + rs.getString(4));
                    if (rs.getString(7) != null) {
                        b.append(" COLLATE ").append(Identifiers.quote(rs.getString(8))).append('.')
                                .append(Identifiers.quote(rs.getString(7)));
                    }
                    if (rs.getString(6) != null) {
                        b.append(" DEFAULT ").append(rs.getString(6));
                    }
                    if (rs.getBoolean(5)) {
                        b.append(" NOT NULL");
                    }
                    b.append(domainChecks(c, oid)).append(';');
                    sql = b.toString();
                }
            }
        }
        String label = ("e".equals(kind) ? "TYPE " : "DOMAIN ") + name;
        String quotedName = name;
        return new DdlStep(label, sql, conn -> {
            try (PreparedStatement ps = conn.prepareStatement("SELECT to_regtype(?) IS NOT NULL")) {
                ps.setString(1, quotedName);
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    return rs.getBoolean(1);
                }
            }
        });
    }

    private static String enumLabels(Connection c, long oid) throws SQLException {
        StringJoiner labels = new StringJoiner(", ");
        try (PreparedStatement ps = c.prepareStatement(
                "SELECT enumlabel FROM pg_enum WHERE enumtypid = ? ORDER BY enumsortorder")) {
            ps.setLong(1, oid);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    labels.add(Identifiers.literal(rs.getString(1)));
                }
            }
        }
        return labels.toString();
    }

    private static String domainChecks(Connection c, long oid) throws SQLException {
        StringBuilder b = new StringBuilder();
        try (PreparedStatement ps = c.prepareStatement(
                "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint WHERE contypid = ? AND contype = 'c' "
                        + "ORDER BY conname")) {
            ps.setLong(1, oid);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    b.append(" CONSTRAINT ").append(Identifiers.quote(rs.getString(1))).append(' ')
                            .append(rs.getString(2));
                }
            }
        }
        return b.toString();
    }
}
