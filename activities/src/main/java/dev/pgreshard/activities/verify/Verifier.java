package dev.pgreshard.activities.verify;

import dev.pgreshard.activities.catalog.Catalog;
import dev.pgreshard.activities.catalog.Column;
import dev.pgreshard.activities.catalog.UnknownPublicationException;
import dev.pgreshard.activities.catalog.SourceShards;
import dev.pgreshard.core.config.PgReshardConfig;
import dev.pgreshard.core.pg.Identifiers;
import dev.pgreshard.core.pg.PgConnector;
import dev.pgreshard.core.topology.Cluster;
import dev.pgreshard.core.topology.Shard;
import dev.pgreshard.core.topology.ShardedTable;
import dev.pgreshard.core.topology.TableName;
import dev.pgreshard.core.topology.Topology;
import dev.pgreshard.workflows.TaskRef;
import dev.pgreshard.workflows.verify.TableVerification;
import dev.pgreshard.workflows.verify.VerifyReport;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Compares every published table on the source with the destination shards, inside PostgreSQL:
 * <ul>
 *   <li>row count and checksum = sum of {@code hashtextextended(row::text, 0)} as numeric over the
 *       copied columns (generated ones left out): order-independent, and a sum rather than an xor so
 *       that duplicated rows count;</li>
 *   <li>placement: each row of a sharded table is on the shard PostgreSQL's own hash partitioning
 *       names ({@code satisfies_hash_partition} against a temporary hash-partitioned parent of the
 *       key type, which is what the sharding function is defined to equal).</li>
 * </ul>
 * The source's rows are grouped by the shard they belong to, so a missing, extra or changed row is
 * reported on the shard where it is wrong. An omnisharded table must equal the source on every
 * shard; a table omnisharded on a multi-shard source is compared with source shard 0. Row text depends on session settings, so every connection pins them.
 */
public final class Verifier {
    private static final String PARENT = "pg_temp.pgreshard_verify_key";
    private final PgReshardConfig config;
    private final PgConnector connector;

    public Verifier(PgReshardConfig config, PgConnector connector) {
        this.config = config;
        this.connector = connector;
    }

    public VerifyReport verify(TaskRef task) throws SQLException {
        Topology topology = Topology.of(config);
        Cluster source = topology.cluster(task.source());
        Cluster destination = topology.cluster(task.destination());
        List<TableName> tables;
        try (Connection c = connector.open(source.shard(0))) {
            if (!Catalog.publicationExists(c, task.publication())) {
                throw new UnknownPublicationException("publication '" + task.publication() + "' does not exist on source "
                        + source.shard(0).describe() + "; name the publication the task moved");
            }
            tables = Catalog.publishedTables(c, task.publication());
        }
        List<TableVerification> results = new ArrayList<>();
        for (TableName table : tables) {
            results.add(verifyTable(source, destination, table));
        }
        return new VerifyReport(List.copyOf(results));
    }

    TableVerification verifyTable(Cluster source, Cluster destination, TableName table) throws SQLException {
        List<Column> columns;
        try (Connection c = connector.open(source.shard(0))) {
            columns = Catalog.storedColumns(c, table);
        }
        ShardedTable sharded = destination.shardedTable(table).orElse(null);
        int n = destination.shardCount();
        String rows = "(SELECT " + Catalog.columnList(columns) + " FROM " + table.quoted() + ") r";
        String hash = "coalesce(sum(hashtextextended(r::text, 0)::numeric), 0)";

        // expected digest per destination shard (sharded) or of the whole table (omnisharded)
        TableDigest[] expected = new TableDigest[sharded == null ? 1 : n];
        Arrays.fill(expected, TableDigest.EMPTY);
        for (Shard shard : SourceShards.holding(source, table)) {
            try (Connection c = open(shard, sharded)) {
                String sql;
                if (sharded == null) {
                    sql = "SELECT 0, count(*), " + hash + " FROM " + rows;
                } else {
                    StringBuilder which = new StringBuilder("CASE");
                    for (int i = 0; i < n; i++) {
                        which.append(" WHEN ").append(placed(n, i, sharded)).append(" THEN ").append(i);
                    }
                    sql = "SELECT " + which + " END, count(*), " + hash + " FROM " + rows + " GROUP BY 1";
                }
                try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
                    while (rs.next()) {
                        int i = rs.getInt(1);
                        expected[i] = expected[i].plus(new TableDigest(rs.getLong(2), rs.getBigDecimal(3)));
                    }
                }
            }
        }
        TableDigest sourceTotal = TableDigest.EMPTY;
        for (TableDigest d : expected) {
            sourceTotal = sourceTotal.plus(d);
        }

        List<String> problems = new ArrayList<>();
        TableDigest destinationTotal = TableDigest.EMPTY;
        TableDigest omniShown = null;
        long misplaced = 0;
        for (Shard shard : destination.shards()) {
            TableDigest want = sharded == null ? sourceTotal : expected[shard.index()];
            String where = "table " + table + " on " + shard.describe();
            try (Connection c = open(shard, sharded)) {
                if (!Catalog.tableExists(c, table)) {
                    problems.add(where + ": table missing (run schema-sync and data-sync)");
                    continue;
                }
                String misplacedExpr = sharded == null ? "0"
                        : "count(*) FILTER (WHERE NOT " + placed(n, shard.index(), sharded) + ")";
                TableDigest got;
                long wrongShard;
                try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(
                        "SELECT count(*), " + hash + ", " + misplacedExpr + " FROM " + rows)) {
                    rs.next();
                    got = new TableDigest(rs.getLong(1), rs.getBigDecimal(2));
                    wrongShard = rs.getLong(3);
                }
                destinationTotal = destinationTotal.plus(got);
                misplaced += wrongShard;
                if (sharded == null && (omniShown == null || !got.equals(want))) {
                    omniShown = omniShown == null || omniShown.equals(want) ? got : omniShown;
                }
                if (got.rows() < want.rows()) {
                    problems.add(where + ": " + (want.rows() - got.rows()) + " row(s) missing (" + got.rows()
                            + " of " + want.rows() + ")");
                } else if (got.rows() > want.rows()) {
                    problems.add(where + ": " + (got.rows() - want.rows()) + " extra row(s) (" + got.rows()
                            + ", expected " + want.rows() + ")");
                } else if (got.checksum().compareTo(want.checksum()) != 0) {
                    problems.add(where + ": checksum differs from the source with equal row counts (changed rows)");
                }
                if (wrongShard > 0) {
                    problems.add(where + ": " + wrongShard + " row(s) belong to another shard by "
                            + sharded.column() + " (misplaced)");
                }
            }
        }
        TableDigest shown = sharded == null ? (omniShown == null ? TableDigest.EMPTY : omniShown) : destinationTotal;
        return new TableVerification(table, sourceTotal.rows(), shown.rows(), sourceTotal.checksum().toPlainString(),
                shown.checksum().toPlainString(), misplaced, List.copyOf(problems));
    }

    /** A connection whose row text is the same everywhere, with the hash-partitioned parent for placement checks. */
    private Connection open(Shard shard, ShardedTable sharded) throws SQLException {
        Connection c = connector.open(shard);
        try (Statement s = c.createStatement()) {
            s.execute("SET TimeZone = 'UTC'; SET DateStyle = 'ISO, YMD'; SET IntervalStyle = 'postgres'; "
                    + "SET extra_float_digits = 3; SET bytea_output = 'hex'; SET lc_monetary = 'C'");
            if (sharded != null) {
                s.execute("CREATE TEMP TABLE pgreshard_verify_key (k " + sharded.keyType().pgTypeName()
                        + ") PARTITION BY HASH (k)");
            }
            return c;
        } catch (SQLException e) {
            c.close();
            throw e;
        }
    }

    /** SQL: row r belongs to shard {@code i} of {@code n}. */
    private static String placed(int n, int i, ShardedTable sharded) {
        return "satisfies_hash_partition('" + PARENT + "'::regclass, " + n + ", " + i + ", r."
                + Identifiers.quote(sharded.column()) + ")";
    }
}
