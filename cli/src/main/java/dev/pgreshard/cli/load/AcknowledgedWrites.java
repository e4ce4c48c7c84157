package dev.pgreshard.cli.load;

import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Every write a {@link WriteLoad} saw acknowledged: row id → the version its last acknowledged
 * transaction left. {@link #missingIn} checks them against one or more databases (the shards of a
 * cluster, or the proxy).
 */
public record AcknowledgedWrites(LoadTable table, Map<Long, Integer> versions) {
    private static final int CHUNK = 10_000;

    public int size() {
        return versions.size();
    }

    /**
     * The acknowledged writes the databases do not show: a row that is absent, or whose version
     * differs from the acknowledged one (a lost UPDATE), described one per line (at most 20 lines,
     * then a count). Empty when nothing is missing. A row found on two databases is reported too:
     * that is a duplicate.
     */
    public List<String> missingIn(List<Connection> databases) throws SQLException {
        Map<Long, Integer> found = new HashMap<>();
        List<String> problems = new ArrayList<>();
        Long[] ids = versions.keySet().toArray(Long[]::new);
        for (Connection c : databases) {
            for (int from = 0; from < ids.length; from += CHUNK) {
                Long[] chunk = java.util.Arrays.copyOfRange(ids, from, Math.min(ids.length, from + CHUNK));
                try (PreparedStatement ps = c.prepareStatement(table.selectSql())) {
                    Array array = c.createArrayOf("bigint", chunk);
                    ps.setArray(1, array);
                    try (ResultSet rs = ps.executeQuery()) {
                        while (rs.next()) {
                            if (found.put(rs.getLong(1), rs.getInt(2)) != null) {
                                problems.add("row " + rs.getLong(1) + " is present more than once");
                            }
                        }
                    }
                }
            }
        }
        long absent = 0;
        long wrongVersion = 0;
        for (Map.Entry<Long, Integer> e : versions.entrySet()) {
            Integer seen = found.get(e.getKey());
            if (seen == null) {
                absent++;
                if (problems.size() < 20) {
                    problems.add("row " + e.getKey() + " acknowledged but absent");
                }
            } else if (!seen.equals(e.getValue())) {
                wrongVersion++;
                if (problems.size() < 20) {
                    problems.add("row " + e.getKey() + " has version " + seen + ", acknowledged " + e.getValue());
                }
            }
        }
        if (absent + wrongVersion > 20) {
            problems.add("... " + absent + " absent and " + wrongVersion + " with a lost update in all");
        }
        return problems;
    }
}
