package dev.pgreshard.activities.preflight;

import dev.pgreshard.core.topology.TableName;

import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;

/**
 * The sequences of the published tables that the cutover moves forward on the destination: owned
 * by a column (serial, GENERATED … AS IDENTITY) or named in a column default ({@code nextval}).
 * Logical replication does not carry sequence values, so these are the ids that would collide
 * without the cutover's sequence step.
 *
 * <p>Kept to itself on purpose: the sequence re-spacing of the cutover (issue 15) brings its own
 * reusable discovery in activities; the plan should then use that one and this class goes.
 */
final class SequenceDiscovery {
    /**
     * @param sequence  the sequence
     * @param table     the table whose column uses it
     * @param column    that column
     * @param kind      serial, identity or default (nextval in a default it does not own)
     * @param lastValue the highest value over the source shards seen so far; null when never used
     *                  (or not readable by the role)
     */
    record Found(TableName sequence, TableName table, String column, String kind, Long lastValue) {
        Found higher(Found other) {
            if (lastValue == null) {
                return other;
            }
            return other.lastValue == null || lastValue >= other.lastValue ? this : other;
        }
    }

    private static final String QUERY = """
            SELECT DISTINCT ON (sn.nspname, s.relname) sn.nspname, s.relname, tn.nspname, t.relname, a.attname,
                   CASE WHEN a.attidentity <> '' THEN 'identity' WHEN dep.deptype = 'a' THEN 'serial' ELSE 'default' END,
                   ps.last_value
            FROM pg_class t
            JOIN pg_namespace tn ON tn.oid = t.relnamespace
            JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum > 0 AND NOT a.attisdropped
            LEFT JOIN pg_attrdef ad ON ad.adrelid = t.oid AND ad.adnum = a.attnum
            JOIN pg_depend dep ON dep.refclassid = 'pg_class'::regclass AND (
                     (dep.classid = 'pg_class'::regclass AND dep.refobjid = t.oid AND dep.refobjsubid = a.attnum
                      AND dep.deptype IN ('a', 'i'))
                  OR (dep.classid = 'pg_attrdef'::regclass AND dep.objid = ad.oid))
            JOIN pg_class s ON s.oid = CASE WHEN dep.classid = 'pg_class'::regclass THEN dep.objid ELSE dep.refobjid END
                 AND s.relkind = 'S'
            JOIN pg_namespace sn ON sn.oid = s.relnamespace
            LEFT JOIN pg_sequences ps ON ps.schemaname = sn.nspname AND ps.sequencename = s.relname
            WHERE t.oid = ANY (?::regclass[])
            ORDER BY sn.nspname, s.relname, dep.classid = 'pg_class'::regclass DESC""";

    private SequenceDiscovery() {
    }

    static List<Found> of(Connection c, List<TableName> tables) throws SQLException {
        List<Found> found = new ArrayList<>();
        if (tables.isEmpty()) {
            return found;
        }
        try (PreparedStatement ps = c.prepareStatement(QUERY)) {
            Array names = c.createArrayOf("text", tables.stream().map(TableName::quoted).toArray());
            ps.setArray(1, names);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    long last = rs.getLong(7);
                    Long lastValue = rs.wasNull() ? null : last;
                    found.add(new Found(new TableName(rs.getString(1), rs.getString(2)),
                            new TableName(rs.getString(3), rs.getString(4)), rs.getString(5), rs.getString(6),
                            lastValue));
                }
            }
        }
        return found;
    }

    /** One line per sequence, for the report. */
    static List<String> describe(Collection<Found> found) {
        List<String> lines = new ArrayList<>();
        for (Found f : found) {
            lines.add(f.sequence() + " (" + f.kind() + " of " + f.table() + "." + f.column() + "): "
                    + (f.lastValue() == null ? "not used yet (or not readable by the user)" : "at " + f.lastValue() + " on the source")
                    + "; the cutover moves it forward on every destination shard");
        }
        return lines;
    }
}
