package dev.pgreshard.activities.preflight;

import dev.pgreshard.activities.catalog.Column;
import dev.pgreshard.activities.catalog.NotRetryableException;
import dev.pgreshard.activities.catalog.SourceShards;
import dev.pgreshard.activities.copy.CopySettings;
import dev.pgreshard.core.config.PgReshardConfig;
import dev.pgreshard.core.pg.PgConnector;
import dev.pgreshard.core.topology.Cluster;
import dev.pgreshard.core.topology.Shard;
import dev.pgreshard.core.topology.ShardedTable;
import dev.pgreshard.core.topology.TableName;
import dev.pgreshard.core.topology.Topology;
import dev.pgreshard.workflows.TaskRef;
import dev.pgreshard.workflows.preflight.PreflightReport;
import dev.pgreshard.workflows.preflight.PublishedTable;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * docs/architecture.md §5.1: every check that can fail before anything is created. Read-only. All problems
 * found are reported together (one run tells the operator everything to fix), each naming the
 * database, the table and the fix; then {@link NotRetryableException} is thrown.
 */
public final class Preflight {
    private final PgReshardConfig config;
    private final PgConnector connector;

    public Preflight(PgReshardConfig config, PgConnector connector) {
        this.config = config;
        this.connector = connector;
    }

    public PreflightReport check(TaskRef task) {
        Topology topology = Topology.of(config);
        Cluster source = topology.cluster(task.source());
        Cluster destination = topology.cluster(task.destination());
        if (source.name().equals(destination.name())) {
            throw new NotRetryableException("source and destination are both '" + source.name()
                    + "'; name a different destination cluster ([[databases]] name)");
        }
        int parallelism = CopySettings.parallelism(config, destination);
        List<String> problems = new ArrayList<>();
        List<String> warnings = new ArrayList<>();
        Map<TableName, long[]> sizes = new TreeMap<>();
        List<TableName> tables = null;
        Map<String, Integer> sourceShardsPerServer = new LinkedHashMap<>();
        source.shards().forEach(s -> sourceShardsPerServer.merge(s.host() + ":" + s.port(), 1, Integer::sum));
        Set<String> serversChecked = new HashSet<>();

        for (Shard shard : source.shards()) {
            try (Connection c = connector.open(shard)) {
                SourceChecks checks = new SourceChecks(c, shard, destination, task.publication(), problems);
                checks.walLevel();
                checks.replicationRole();
                String server = shard.host() + ":" + shard.port();
                if (serversChecked.add(server)) {
                    checks.freeSlots(sourceShardsPerServer.get(server) * (1 + parallelism), parallelism);
                }
                List<TableName> published = checks.publishedTables();
                if (published == null) {
                    continue;
                }
                if (tables == null) {
                    tables = published;
                } else if (!tables.equals(published)) {
                    problems.add("publication '" + task.publication() + "' lists " + published + " on "
                            + shard.describe() + " but " + tables + " on " + source.shard(0).describe()
                            + "; make the publication list the same tables on every source shard");
                }
                for (TableName table : published) {
                    long[] size = checks.table(table);
                    if (size != null) {
                        long[] total = sizes.computeIfAbsent(table, t -> new long[2]);
                        total[0] += size[0];
                        total[1] += size[1];
                    }
                }
            } catch (SQLException e) {
                problems.add(e.getMessage());
            }
        }
        List<TableName> toMove = tables == null ? List.of() : tables;
        if (tables != null && tables.isEmpty()) {
            problems.add("publication '" + task.publication() + "' on " + source.shard(0).describe()
                    + " lists no tables; ALTER PUBLICATION " + task.publication() + " ADD TABLE ...");
        }
        if (tables != null && problems.isEmpty()) {
            for (TableName t : tables) {
                if (SourceShards.omnisharded(source, t)) {
                    sameOnEverySourceShard(source, t, problems);
                }
            }
        }
        for (Shard shard : destination.shards()) {
            try (Connection c = connector.open(shard)) {
                new DestinationChecks(c, shard, problems, warnings).check(toMove);
            } catch (SQLException e) {
                problems.add(e.getMessage());
            }
        }
        for (TableName configured : destination.shardedTables().keySet()) {
            if (tables != null && !tables.contains(configured)) {
                warnings.add("[[sharded_tables]] " + configured + " of '" + destination.name()
                        + "' is not in publication '" + task.publication() + "' and will not be moved");
            }
        }
        if (!problems.isEmpty()) {
            throw new NotRetryableException("preflight failed: " + String.join("; ", problems));
        }
        List<PublishedTable> report = new ArrayList<>();
        for (TableName t : toMove) {
            long[] size = sizes.getOrDefault(t, new long[2]);
            report.add(new PublishedTable(t, destination.isSharded(t), size[0], size[1]));
        }
        report.sort(Comparator.comparingLong(PublishedTable::estimatedBytes).reversed()
                .thenComparing(PublishedTable::table));
        return new PreflightReport(List.copyOf(report), List.copyOf(warnings));
    }

    /**
     * A table the multi-shard source does not shard is read from shard 0 only, which is right only
     * if every source shard holds the same rows: compare exact counts, so a table that is really
     * spread over the shards without a [[sharded_tables]] entry is caught instead of losing rows.
     */
    private void sameOnEverySourceShard(Cluster source, TableName table, List<String> problems) {
        List<Long> counts = new ArrayList<>();
        for (Shard shard : source.shards()) {
            try (Connection c = connector.open(shard); Statement s = c.createStatement();
                 ResultSet rs = s.executeQuery("SELECT count(*) FROM " + table.quoted())) {
                rs.next();
                counts.add(rs.getLong(1));
            } catch (SQLException e) {
                problems.add(e.getMessage());
                return;
            }
        }
        if (counts.stream().distinct().count() > 1) {
            problems.add("table " + table + " is not sharded on source '" + source.name() + "' (no [[sharded_tables]] "
                    + "entry for database \"" + source.name() + "\"), so it must be the same on every source shard, "
                    + "but the shards hold " + counts + " rows; add its [[sharded_tables]] entry for \""
                    + source.name() + "\" or make the copies equal");
        }
    }

    /** Whether {@code column} of a sharded table is usable as its shard key; null when fine. */
    static String keyColumnProblem(ShardedTable sharded, List<Column> columns, Shard shard) {
        TableName t = sharded.table();
        Column key = columns.stream().filter(c -> c.name().equals(sharded.column())).findFirst().orElse(null);
        if (key == null) {
            return "table " + t + " has no column \"" + sharded.column() + "\" on source " + shard.describe()
                    + " (columns: " + columns.stream().map(Column::name).toList()
                    + "); fix column in its [[sharded_tables]] entry (names are case-sensitive)";
        }
        if (key.generated()) {
            return "shard-key column " + t + "." + key.name() + " is a generated column on source " + shard.describe()
                    + "; shard by a stored column";
        }
        if (!key.typeName().equals(sharded.keyType().pgTypeName())) {
            return "shard-key column " + t + "." + key.name() + " is " + key.formattedType() + " on source "
                    + shard.describe() + " but [[sharded_tables]] says data_type = \"" + sharded.keyType().configName()
                    + "\"; set data_type to the column's type (bigint, integer, text, varchar, uuid) or change the column";
        }
        return null;
    }
}
