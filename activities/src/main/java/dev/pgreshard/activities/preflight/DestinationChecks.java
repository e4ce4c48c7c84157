package dev.pgreshard.activities.preflight;

import dev.pgreshard.activities.catalog.Catalog;
import dev.pgreshard.core.topology.Shard;
import dev.pgreshard.core.topology.TableName;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;

/**
 * The checks of one destination shard: every table to move is absent or empty there, and prepared
 * transactions are enabled when the proxy will commit multi-shard transactions there with 2PC.
 */
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

    void check(List<TableName> tables, boolean twoPhase) throws SQLException {
        if (twoPhase) {
            try (Statement s = c.createStatement();
                 ResultSet rs = s.executeQuery("SELECT current_setting('max_prepared_transactions')::int")) {
                rs.next();
                if (rs.getInt(1) == 0) {
                    problems.add("destination " + shard.describe() + " has max_prepared_transactions = 0, but after the "
                            + "cutover the proxy commits transactions that write on several shards with two-phase commit "
                            + "([general] two_phase_commit = true); set max_prepared_transactions to at least max_connections "
                            + "(postgresql.conf, restart), or set two_phase_commit = false to refuse such transactions");
                }
            }
        }
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SHOW wal_level")) {
            rs.next();
            if (!"logical".equals(rs.getString(1))) {
                warnings.add("destination " + shard.describe() + " has wal_level = " + rs.getString(1)
                        + ": reverse replication (rollback after cutover) will need wal_level = logical");
            }
        }
        for (TableName t : tables) {
            if (Catalog.tableExists(c, t) && Catalog.hasRows(c, t)) {
                problems.add("table " + t + " already has rows on destination " + shard.describe()
                        + "; empty it (TRUNCATE " + t.quoted() + ") or choose an empty destination");
            }
        }
    }
}
