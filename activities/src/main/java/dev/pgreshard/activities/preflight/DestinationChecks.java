package dev.pgreshard.activities.preflight;

import dev.pgreshard.activities.catalog.Catalog;
import dev.pgreshard.core.topology.Shard;
import dev.pgreshard.core.topology.TableName;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * The checks of one destination shard: every table to move is absent or empty there, the role
 * may do what schema sync and reverse replication will do, and prepared transactions are enabled
 * when the proxy will commit multi-shard transactions there with 2PC.
 */
final class DestinationChecks {
    private final Connection c;
    private final Shard shard;
    private final Findings findings;

    DestinationChecks(Connection c, Shard shard, Findings findings) {
        this.c = c;
        this.shard = shard;
        this.findings = findings;
    }

    /** Returns the tables that already exist (empty) on this shard. */
    Set<TableName> check(List<TableName> tables, boolean twoPhase) throws SQLException {
        if (twoPhase) {
            try (Statement s = c.createStatement();
                 ResultSet rs = s.executeQuery("SELECT current_setting('max_prepared_transactions')::int")) {
                rs.next();
                if (rs.getInt(1) == 0) {
                    findings.block("destination " + shard.describe() + " has max_prepared_transactions = 0, but after the "
                            + "cutover the proxy commits transactions that write on several shards with two-phase commit "
                            + "([general] two_phase_commit = true)", "set max_prepared_transactions to at least "
                            + "max_connections (postgresql.conf, restart), or set two_phase_commit = false to refuse such "
                            + "transactions");
                }
            }
        }
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SHOW wal_level")) {
            rs.next();
            if (!"logical".equals(rs.getString(1))) {
                findings.warn("destination " + shard.describe() + " has wal_level = " + rs.getString(1)
                        + ": reverse replication (rollback after cutover) will need wal_level = logical "
                        + "(ALTER SYSTEM SET wal_level = logical; and a restart)");
            }
        }
        Privileges privileges = new Privileges(c, shard, "destination", findings);
        privileges.replication("reverse replication streams the destination's changes back to the source");
        privileges.sessionReplicationRole();
        privileges.createIn("pgreshard", "replication keeps its progress in pgreshard.replication_progress");
        Set<String> schemas = new TreeSet<>();
        Set<TableName> existing = new TreeSet<>();
        List<TableName> filled = new java.util.ArrayList<>();
        for (TableName t : tables) {
            if (Catalog.tableExists(c, t)) {
                existing.add(t);
                if (Catalog.hasRows(c, t)) {
                    filled.add(t);
                }
                privileges.owns(t);
            } else {
                schemas.add(t.schema());
            }
        }
        if (!filled.isEmpty()) {
            // one statement for all: foreign keys an earlier run's post-data left refuse a TRUNCATE of one table
            String all = String.join(", ", existing.stream().map(TableName::quoted).toList());
            findings.block((filled.size() == 1 ? "table " + filled.get(0) + " already has" : "tables " + filled
                    + " already have") + " rows on destination " + shard.describe(), "empty the moved tables in one "
                    + "statement (TRUNCATE " + all + ";) or choose an empty destination; the schema an earlier run left "
                    + "may stay");
        }
        for (String schema : schemas) {
            privileges.createIn(schema, "schema sync creates the tables of schema " + schema);
        }
        return existing;
    }
}
