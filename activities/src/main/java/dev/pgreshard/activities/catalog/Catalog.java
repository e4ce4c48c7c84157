package dev.pgreshard.activities.catalog;

import dev.pgreshard.core.pg.Identifiers;
import dev.pgreshard.core.topology.TableName;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;

/** Catalog queries shared by preflight, schema sync, copy and verification. */
public final class Catalog {
    /** First OID of user-created objects (FirstNormalObjectId); types below it are built in. */
    private static final long FIRST_NORMAL_OID = 16384;

    private Catalog() {
    }

    public static boolean publicationExists(Connection c, String publication) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT 1 FROM pg_publication WHERE pubname = ?")) {
            ps.setString(1, publication);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next();
            }
        }
    }

    /**
     * The tables of {@code publication} (FOR TABLE, FOR ALL TABLES and FOR TABLES IN SCHEMA alike,
     * since pg_publication_tables expands them all), sorted by name.
     */
    public static List<TableName> publishedTables(Connection c, String publication) throws SQLException {
        List<TableName> tables = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement(
                "SELECT schemaname, tablename FROM pg_publication_tables WHERE pubname = ? ORDER BY 1, 2")) {
            ps.setString(1, publication);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    tables.add(new TableName(rs.getString(1), rs.getString(2)));
                }
            }
        }
        return tables;
    }

    /** True when the table exists (in the connection's database). */
    public static boolean tableExists(Connection c, TableName table) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT to_regclass(?) IS NOT NULL")) {
            ps.setString(1, table.quoted());
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getBoolean(1);
            }
        }
    }

    /** True when the table has at least one row (visible to the connection). */
    public static boolean hasRows(Connection c, TableName table) throws SQLException {
        try (Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT EXISTS (SELECT 1 FROM " + table.quoted() + ")")) {
            rs.next();
            return rs.getBoolean(1);
        }
    }

    /** The live columns of {@code table} in attnum order (dropped ones left out). */
    public static List<Column> columns(Connection c, TableName table) throws SQLException {
        String sql = """
                SELECT a.attname, t.typname, format_type(a.atttypid, a.atttypmod), a.attgenerated <> '',
                       NOT (t.typtype = 'c' OR coalesce(e.typtype = 'c', false)
                            OR (t.typtype = 'd' AND EXISTS (SELECT 1 FROM pg_type b WHERE b.oid = t.typbasetype
                                AND (b.typtype = 'c' OR (b.typcategory = 'A' AND b.typelem >= ?))))),
                       CASE WHEN t.typcategory = 'A' AND t.typelem >= ? THEN format('%I.%I', en.nspname, e.typname) END
                FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
                LEFT JOIN pg_type e ON e.oid = t.typelem AND t.typcategory = 'A'
                LEFT JOIN pg_namespace en ON en.oid = e.typnamespace
                WHERE a.attrelid = to_regclass(?) AND a.attnum > 0 AND NOT a.attisdropped
                ORDER BY a.attnum""";
        List<Column> columns = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setLong(1, FIRST_NORMAL_OID);
            ps.setLong(2, FIRST_NORMAL_OID);
            ps.setString(3, table.quoted());
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    columns.add(new Column(rs.getString(1), rs.getString(2), rs.getString(3), rs.getBoolean(4),
                            rs.getBoolean(5), rs.getString(6)));
                }
            }
        }
        return columns;
    }

    /**
     * The columns that are copied and compared: every live column except generated ones (the
     * destination computes those itself, and COPY FROM refuses values for them).
     */
    public static List<Column> storedColumns(Connection c, TableName table) throws SQLException {
        return columns(c, table).stream().filter(col -> !col.generated()).toList();
    }

    /** {@code "a", "B c"}: a quoted column list for SQL text. */
    public static String columnList(List<Column> columns) {
        return columns.stream().map(col -> Identifiers.quote(col.name())).collect(Collectors.joining(", "));
    }

    /** The server's major version (14, 15, ...). */
    public static int serverMajor(Connection c) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SHOW server_version_num")) {
            rs.next();
            return rs.getInt(1) / 10000;
        }
    }
}
