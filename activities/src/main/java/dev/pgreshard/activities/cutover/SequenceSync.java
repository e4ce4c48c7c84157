package dev.pgreshard.activities.cutover;

import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Moves every sequence of the cluster traffic leaves past its value on the cluster traffic goes to
 * (serial and identity columns included: both are sequences in {@code pg_sequences}). Logical
 * replication does not carry sequences, so without this the first INSERT after the swap would reuse
 * an id. The value is the highest over the old cluster's shards; each new shard's sequence is only
 * ever moved forward. Sequences that exist on one side only are left alone. One query per shard.
 */
final class SequenceSync {
    private static final String READ = """
            SELECT schemaname, sequencename, last_value FROM pg_catalog.pg_sequences
            WHERE last_value IS NOT NULL AND schemaname NOT IN ('pgreshard', 'pg_catalog', 'information_schema')""";
    private static final String ADVANCE = """
            SELECT count(pg_catalog.setval(format('%I.%I', s.schemaname, s.sequencename)::regclass, v.value, true))
            FROM unnest(?::text[], ?::text[], ?::bigint[]) AS v(schemaname, sequencename, value)
            JOIN pg_catalog.pg_sequences s ON s.schemaname = v.schemaname AND s.sequencename = v.sequencename
            WHERE s.last_value IS NULL OR (s.increment_by > 0 AND s.last_value < v.value)""";

    private SequenceSync() {
    }

    /** The highest value of each sequence over {@code shards}, by "schema\u0000name". */
    static Map<String, Long> read(List<Connection> shards) throws SQLException {
        Map<String, Long> values = new TreeMap<>();
        for (Connection c : shards) {
            try (PreparedStatement ps = c.prepareStatement(READ); ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    values.merge(rs.getString(1) + "\u0000" + rs.getString(2), rs.getLong(3), Math::max);
                }
            }
        }
        return values;
    }

    /** Advances each shard's sequences to at least {@code values}; returns how many sequences moved. */
    static int advance(List<Connection> shards, Map<String, Long> values) throws SQLException {
        if (values.isEmpty()) {
            return 0;
        }
        List<String> schemas = new ArrayList<>();
        List<String> names = new ArrayList<>();
        List<Long> numbers = new ArrayList<>();
        values.forEach((key, value) -> {
            int split = key.indexOf('\u0000');
            schemas.add(key.substring(0, split));
            names.add(key.substring(split + 1));
            numbers.add(value);
        });
        int moved = 0;
        for (Connection c : shards) {
            try (PreparedStatement ps = c.prepareStatement(ADVANCE)) {
                Array a = c.createArrayOf("text", schemas.toArray());
                Array b = c.createArrayOf("text", names.toArray());
                Array n = c.createArrayOf("bigint", numbers.toArray());
                ps.setArray(1, a);
                ps.setArray(2, b);
                ps.setArray(3, n);
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    moved += rs.getInt(1);
                }
            }
        }
        return moved;
    }
}
