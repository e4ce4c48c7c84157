package dev.pgreshard.activities.preflight;

import dev.pgreshard.activities.catalog.Catalog;
import dev.pgreshard.core.topology.Shard;
import dev.pgreshard.core.topology.TableName;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;

/** The checks of one destination shard: every table to move is absent or empty there. */
final class DestinationChecks {
    private final Connection c;
    private final Shard shard;
    private final List<String> problems;
    private final List<String> warnings;

    DestinationChecks(Connection c, Shard shard, List<String> problems, List<String> warnings) {
        this.c = c;
        this.shard = shard;
        this.problems = problems;
        this.warnings = warnings;
    }

    void check(List<TableName> tables) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SHOW wal_level")) {
            rs.next();
            if (!"logical".equals(rs.getString(1))) {
                warnings.add("destination " + shard.describe() + " has wal_level = " + rs.getString(1)
                        + ": reverse replication (rollback after cutover) will need wal_level = logical");
            }
        }
        List<TableName> filled = new java.util.ArrayList<>();
        for (TableName t : tables) {
            if (Catalog.tableExists(c, t) && Catalog.hasRows(c, t)) {
                filled.add(t);
            }
        }
        if (!filled.isEmpty()) {
            // one statement for all: foreign keys an earlier run's post-data left refuse a TRUNCATE of one table
            String all = String.join(", ", tables.stream().filter(t -> {
                try {
                    return Catalog.tableExists(c, t);
                } catch (SQLException e) {
                    return filled.contains(t);
                }
            }).map(TableName::quoted).toList());
            problems.add((filled.size() == 1 ? "table " + filled.get(0) + " already has" : "tables " + filled
                    + " already have") + " rows on destination " + shard.describe() + "; empty the moved tables in one "
                    + "statement (TRUNCATE " + all + ") or choose an empty destination; the schema an earlier run left "
                    + "may stay");
        }
    }
}
