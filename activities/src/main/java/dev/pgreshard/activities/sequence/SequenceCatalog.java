package dev.pgreshard.activities.sequence;

import dev.pgreshard.core.topology.TableName;

import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Which sequences feed a set of tables, and their state. A sequence feeds a table when it is owned
 * by one of its columns (serial, bigserial, {@code OWNED BY}), is an identity column's sequence, or
 * is used in a column's {@code DEFAULT nextval(...)}. One sequence may feed several tables (shared
 * ids); it is listed once, with every column it feeds. Used by the cutover (to re-space them,
 * {@link SequenceSpacing}) and by whatever reports them beforehand (a dry run).
 */
public final class SequenceCatalog {
    /** Owned and identity sequences (pg_depend from the sequence to the column) and sequences in column defaults. */
    private static final String FEEDING = """
            WITH tabs AS (
                SELECT c.oid FROM unnest(?::text[], ?::text[]) AS t(schemaname, tablename)
                JOIN pg_catalog.pg_namespace n ON n.nspname = t.schemaname
                JOIN pg_catalog.pg_class c ON c.relnamespace = n.oid AND c.relname = t.tablename),
            feeds AS (
                SELECT d.objid AS seq, d.refobjid AS tab, d.refobjsubid AS col,
                       CASE d.deptype WHEN 'i' THEN 'identity' ELSE 'owned' END AS kind
                FROM pg_catalog.pg_depend d
                WHERE d.classid = 'pg_catalog.pg_class'::regclass AND d.refclassid = 'pg_catalog.pg_class'::regclass
                  AND d.deptype IN ('a', 'i') AND d.refobjid IN (SELECT oid FROM tabs)
                UNION ALL
                SELECT d.refobjid, ad.adrelid, ad.adnum, 'default'
                FROM pg_catalog.pg_attrdef ad
                JOIN pg_catalog.pg_depend d ON d.classid = 'pg_catalog.pg_attrdef'::regclass AND d.objid = ad.oid
                     AND d.refclassid = 'pg_catalog.pg_class'::regclass
                WHERE ad.adrelid IN (SELECT oid FROM tabs))
            SELECT DISTINCT sn.nspname, s.relname, tn.nspname, t.relname, a.attname, f.kind, f.kind = 'default' AS weak
            FROM feeds f
            JOIN pg_catalog.pg_class s ON s.oid = f.seq AND s.relkind = 'S'
            JOIN pg_catalog.pg_namespace sn ON sn.oid = s.relnamespace
            JOIN pg_catalog.pg_class t ON t.oid = f.tab
            JOIN pg_catalog.pg_namespace tn ON tn.oid = t.relnamespace
            JOIN pg_catalog.pg_attribute a ON a.attrelid = f.tab AND a.attnum = f.col
            ORDER BY 1, 2, 3, 4, 5, 7""";
    private static final String STATE = """
            SELECT schemaname, sequencename, data_type::text, start_value, min_value, max_value, increment_by, cycle,
                   last_value
            FROM pg_catalog.pg_sequences
            WHERE (schemaname, sequencename) IN (SELECT * FROM unnest(?::text[], ?::text[]))""";

    /**
     * A column fed by a sequence.
     *
     * @param kind identity, owned (serial or OWNED BY) or default ({@code DEFAULT nextval(...)} only)
     */
    public record Feed(TableName table, String column, String kind) {
        @Override
        public String toString() {
            return table + "." + column + " (" + kind + ")";
        }
    }

    /** A sequence and the columns it feeds. */
    public record FeedingSequence(TableName sequence, List<Feed> feeds) {
    }

    /**
     * A sequence as {@code pg_sequences} shows it on one server.
     *
     * @param lastValue the last value handed out or cached (written to disk); null when never used
     */
    public record State(TableName sequence, String dataType, long start, long min, long max, long increment,
                        boolean cycle, Long lastValue) {
    }

    private SequenceCatalog() {
    }

    /** The sequences feeding {@code tables} in the database of {@code c}, by name. */
    public static List<FeedingSequence> feeding(Connection c, Collection<TableName> tables) throws SQLException {
        Map<TableName, List<Feed>> bySequence = new LinkedHashMap<>();
        try (PreparedStatement ps = c.prepareStatement(FEEDING)) {
            bindNames(c, ps, tables);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    TableName seq = new TableName(rs.getString(1), rs.getString(2));
                    Feed feed = new Feed(new TableName(rs.getString(3), rs.getString(4)), rs.getString(5), rs.getString(6));
                    List<Feed> feeds = bySequence.computeIfAbsent(seq, k -> new ArrayList<>());
                    // a serial column is both owned and defaulted: keep the stronger word
                    if (feeds.stream().noneMatch(f -> f.table().equals(feed.table()) && f.column().equals(feed.column()))) {
                        feeds.add(feed);
                    }
                }
            }
        }
        List<FeedingSequence> out = new ArrayList<>();
        bySequence.forEach((seq, feeds) -> out.add(new FeedingSequence(seq, List.copyOf(feeds))));
        return out;
    }

    /** The state of each of {@code sequences} that exists in the database of {@code c}. */
    public static Map<TableName, State> states(Connection c, Collection<TableName> sequences) throws SQLException {
        Map<TableName, State> out = new TreeMap<>();
        if (sequences.isEmpty()) {
            return out;
        }
        try (PreparedStatement ps = c.prepareStatement(STATE)) {
            bindNames(c, ps, sequences);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    TableName seq = new TableName(rs.getString(1), rs.getString(2));
                    Long last = rs.getObject(9) == null ? null : rs.getLong(9);
                    out.put(seq, new State(seq, rs.getString(3), rs.getLong(4), rs.getLong(5), rs.getLong(6),
                            rs.getLong(7), rs.getBoolean(8), last));
                }
            }
        }
        return out;
    }

    private static void bindNames(Connection c, PreparedStatement ps, Collection<TableName> names) throws SQLException {
        Array schemas = c.createArrayOf("text", names.stream().map(TableName::schema).toArray());
        Array relations = c.createArrayOf("text", names.stream().map(TableName::name).toArray());
        ps.setArray(1, schemas);
        ps.setArray(2, relations);
    }
}
