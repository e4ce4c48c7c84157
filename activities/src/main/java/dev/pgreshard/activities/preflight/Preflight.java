package dev.pgreshard.activities.preflight;

import dev.pgreshard.activities.catalog.Catalog;
import dev.pgreshard.activities.catalog.Column;
import dev.pgreshard.activities.catalog.NotRetryableException;
import dev.pgreshard.activities.catalog.SourceShards;
import dev.pgreshard.activities.copy.CopySettings;
import dev.pgreshard.core.config.PgReshardConfig;
import dev.pgreshard.core.pg.Identifiers;
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
import java.util.function.BiConsumer;
import java.util.stream.Collectors;

/**
 * docs/architecture.md §5.1: every check that can fail before anything is created. Read-only. Used
 * twice: by {@code pgreshard plan} / {@code reshard} / {@code RESHARD … DRY_RUN} ({@link #plan}: the
 * whole report) and by the workflow's first step ({@link #check}: the same checks, failing with every
 * blocker at once). Each blocker names the database, the table and its fix.
 */
public final class Preflight {
    private final PgReshardConfig config;
    private final PgConnector connector;

    public Preflight(PgReshardConfig config, PgConnector connector) {
        this.config = config;
        this.connector = connector;
    }

    /** The workflow's preflight: the tables to move, or {@link NotRetryableException} listing every blocker. */
    public PreflightReport check(TaskRef task) {
        return check(task, PreflightConnections.CLOSE);
    }

    /**
     * {@link #check(TaskRef)}, handing each shard's connection to {@code keep} at the end instead of closing it
     * (pass or fail): a copy that follows uses them rather than opening its own.
     */
    public PreflightReport check(TaskRef task, BiConsumer<Shard, Connection> keep) {
        PlanReport plan = run(task, false, false, keep);
        if (plan.blocked()) {
            throw new NotRetryableException("preflight failed: "
                    + plan.blockers().stream().map(Blocker::sentence).collect(Collectors.joining("; ")));
        }
        List<PublishedTable> tables = plan.tables().stream()
                .map(t -> new PublishedTable(t.table(), t.sharded(), t.estimatedRows(), t.estimatedBytes())).toList();
        return new PreflightReport(tables, plan.warnings());
    }

    /**
     * Every check and the whole report, changing nothing. {@code sampleThroughput}: read a few
     * megabytes of the largest table to estimate the copy time.
     */
    public PlanReport plan(TaskRef task, boolean sampleThroughput) {
        return run(task, sampleThroughput, true, PreflightConnections.CLOSE);
    }

    /** {@code controlStore}: check the control store too (the workflow's worker has it open already). */
    private PlanReport run(TaskRef task, boolean sampleThroughput, boolean controlStore,
                           BiConsumer<Shard, Connection> keep) {
        Topology topology = Topology.of(config);
        Cluster source = topology.cluster(task.source());
        Cluster destination = topology.cluster(task.destination());
        if (source.name().equals(destination.name())) {
            throw new NotRetryableException("source and destination are both '" + source.name()
                    + "'; name a different destination cluster ([[databases]] name)");
        }
        List<Shard> shards = new ArrayList<>(source.shards());
        shards.addAll(destination.shards());
        try (PreflightConnections connections = new PreflightConnections(connector, shards, keep)) {
            return run(task, sampleThroughput, controlStore, source, destination, connections);
        }
    }

    private PlanReport run(TaskRef task, boolean sampleThroughput, boolean controlStore, Cluster source,
                           Cluster destination, PreflightConnections connections) {
        int parallelism = CopySettings.parallelism(config, destination);
        Findings findings = new Findings();
        Map<TableName, long[]> sizes = new TreeMap<>();
        Map<TableName, String> identities = new TreeMap<>();
        List<TableName> tables = null;
        Map<String, Integer> sourceShardsPerServer = new LinkedHashMap<>();
        source.shards().forEach(s -> sourceShardsPerServer.merge(s.host() + ":" + s.port(), 1, Integer::sum));
        Set<String> serversChecked = new HashSet<>();
        SchemaPreview schema = null;
        Map<TableName, SequenceReport.Found> sequences = new TreeMap<>();
        Map<String, String> grantedRoles = Map.of();

        for (Shard shard : source.shards()) {
            try {
                Connection c = connections.get(shard);
                SourceChecks checks = new SourceChecks(c, shard, destination, task.publication(), findings);
                checks.walLevel();
                Privileges privileges = new Privileges(c, shard, "source", findings);
                privileges.replication("the copy and replication read through replication slots");
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
                    findings.block("publication '" + task.publication() + "' lists " + published + " on "
                            + shard.describe() + " but " + tables + " on " + source.shard(0).describe(),
                            "make the publication list the same tables on every source shard");
                }
                // a [[sharded_tables]] table left out of the publication blocks (below); check it now as well, so
                // that adding it to the publication does not reveal new blockers on the next run
                List<TableName> checked = new ArrayList<>(published);
                for (TableName configured : destination.shardedTables().keySet()) {
                    if (!published.contains(configured) && Catalog.tableExists(c, configured)) {
                        checked.add(configured);
                    }
                }
                for (TableName table : checked) {
                    SourceChecks.SourceTable found = checks.table(table);
                    if (found != null) {
                        privileges.onTable(table, List.of("SELECT", "INSERT", "UPDATE", "DELETE"),
                                "the copy reads it; reverse replication writes changes made after the cutover back");
                    }
                    if (found != null && published.contains(table)) {
                        long[] total = sizes.computeIfAbsent(table, t -> new long[2]);
                        total[0] += found.estimatedRows();
                        total[1] += found.estimatedBytes();
                        identities.putIfAbsent(table, found.replicaIdentity());
                    }
                }
                for (SequenceReport.Found f : SequenceReport.of(c, checked)) {
                    sequences.merge(f.sequence(), f, SequenceReport.Found::higher);
                    privileges.onSequence(f.sequence(), List.of("SELECT", "UPDATE"),
                            "schema sync dumps it; a rollback moves it past the destination's values");
                }
                privileges.createIn("pgreshard", "reverse replication keeps its progress in pgreshard.replication_progress");
                privileges.sessionReplicationRole();
                if (privileges.mayReplicate()) {
                    checkReplicationConnection(shard, findings);
                }
                if (shard.index() == 0) {
                    schema = SchemaPreview.of(c, published, destination);
                    List<TableName> named = new ArrayList<>(published);
                    named.addAll(sequences.keySet());
                    grantedRoles = GrantedRoles.of(c, named);
                }
            } catch (SQLException e) {
                findings.block(e.getMessage());
            }
        }
        List<TableName> toMove = tables == null ? List.of() : tables;
        if (tables != null && tables.isEmpty()) {
            findings.block("publication '" + task.publication() + "' on " + source.shard(0).describe() + " lists no tables",
                    "ALTER PUBLICATION " + task.publication() + " ADD TABLE ...;");
        }
        if (tables != null && !findings.hasBlockers()) {
            for (TableName t : tables) {
                if (SourceShards.omnisharded(source, t)) {
                    sameOnEverySourceShard(source, t, connections, findings);
                }
            }
        }
        Map<TableName, List<Integer>> existingOn = new TreeMap<>();
        for (Shard shard : destination.shards()) {
            try {
                Connection c = connections.get(shard);
                GrantedRoles.checkOn(c, shard, destination.name(), grantedRoles, findings);
                for (TableName t : new DestinationChecks(c, shard, findings)
                        .check(toMove, config.general().twoPhaseCommit() && destination.shardCount() > 1)) {
                    existingOn.computeIfAbsent(t, k -> new ArrayList<>()).add(shard.index());
                }
            } catch (SQLException e) {
                findings.block(e.getMessage());
            }
        }
        if (controlStore) {
            ControlStoreCheck.check(config, findings);
        }
        if (tables != null) {
            unpublished(source, destination, task.publication(), tables, connections, findings);
        }
        List<TablePlan> report = new ArrayList<>();
        for (TableName t : toMove) {
            long[] size = sizes.getOrDefault(t, new long[2]);
            ShardedTable sharded = destination.shardedTable(t).orElse(null);
            report.add(new TablePlan(t, sharded != null, sharded == null ? "" : sharded.column(),
                    sharded == null ? "" : sharded.keyType().configName(), size[0], size[1],
                    identities.getOrDefault(t, "unknown"), onDestination(existingOn.get(t), destination.shardCount())));
        }
        report.sort(Comparator.comparingLong(TablePlan::estimatedBytes).reversed().thenComparing(TablePlan::table));
        String estimate = "";
        if (sampleThroughput && !report.isEmpty()) {
            estimate = ThroughputSample.estimate(connector, source, report, parallelism,
                    CopySettings.splitThresholdBytes(config));
        }
        return new PlanReport(source.name(), destination.name(), task.publication(), report,
                schema == null ? List.of() : schema.lines(), SequenceReport.describe(sequences.values()),
                schema == null ? List.of() : schema.skippedForeignKeys(), estimate, findings.blockers(),
                findings.warnings());
    }

    /**
     * Tables of the source that the publication leaves out: after the cutover the proxy sends the
     * database to the destination, where they will not exist. A [[sharded_tables]] entry for one of
     * them is surely a forgotten ALTER PUBLICATION, so it blocks; the others are warned about.
     */
    private static void unpublished(Cluster source, Cluster destination, String publication, List<TableName> published,
                                    PreflightConnections connections, Findings findings) {
        List<TableName> left = new ArrayList<>();
        try (Statement s = connections.get(source.shard(0)).createStatement();
             ResultSet rs = s.executeQuery("""
                     SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                     WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition
                       AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'pgreshard')
                       AND n.nspname !~ '^pg_' ORDER BY 1, 2""")) {
            while (rs.next()) {
                TableName t = new TableName(rs.getString(1), rs.getString(2));
                if (!published.contains(t)) {
                    left.add(t);
                }
            }
        } catch (SQLException e) {
            findings.block(e.getMessage());
            return;
        }
        for (TableName configured : destination.shardedTables().keySet()) {
            if (left.contains(configured)) {
                findings.block("table " + configured + " has a [[sharded_tables]] entry for '" + destination.name()
                        + "' but is not in publication '" + publication + "' on source " + source.shard(0).describe()
                        + ", so it would not be moved", "ALTER PUBLICATION " + Identifiers.quote(publication)
                        + " ADD TABLE " + configured.quoted() + ";");
            } else if (!published.contains(configured)) {
                findings.warn("[[sharded_tables]] " + configured + " of '" + destination.name()
                        + "' is not in publication '" + publication + "' and will not be moved");
            }
        }
        List<TableName> others = left.stream().filter(t -> !destination.shardedTables().containsKey(t)).toList();
        if (!others.isEmpty()) {
            findings.warn("tables of source '" + source.name() + "' outside publication '" + publication + "' are not "
                    + "moved: " + others + "; after the cutover the proxy sends the database to '" + destination.name()
                    + "', where they will not exist (add them to the publication to move them)");
        }
    }

    /** The copy opens logical replication connections: pg_hba.conf and the REPLICATION attribute must allow them. */
    private void checkReplicationConnection(Shard shard, Findings findings) {
        try (Connection ignored = connector.openReplication(shard)) {
            // opened: enough
        } catch (SQLException e) {
            findings.block("a replication connection to source " + shard.describe() + " was refused: "
                    + e.getMessage(), "allow it in pg_hba.conf (a line for the database, e.g. host "
                    + shard.databaseName() + " <user> <address> scram-sha-256) and give the user REPLICATION");
        }
    }

    private static String onDestination(List<Integer> existingOn, int shards) {
        if (existingOn == null || existingOn.isEmpty()) {
            return "created by schema sync on every shard";
        }
        if (existingOn.size() == shards) {
            return "exists (empty) on every shard; schema sync adds what is missing";
        }
        return "exists (empty) on shards " + existingOn + ", created by schema sync on the others";
    }

    /**
     * A table the multi-shard source does not shard is read from shard 0 only, which is right only
     * if every source shard holds the same rows: compare exact counts, so a table that is really
     * spread over the shards without a [[sharded_tables]] entry is caught instead of losing rows.
     */
    private static void sameOnEverySourceShard(Cluster source, TableName table, PreflightConnections connections,
                                               Findings findings) {
        List<Long> counts = new ArrayList<>();
        for (Shard shard : source.shards()) {
            try (Statement s = connections.get(shard).createStatement();
                 ResultSet rs = s.executeQuery("SELECT count(*) FROM " + table.quoted())) {
                rs.next();
                counts.add(rs.getLong(1));
            } catch (SQLException e) {
                findings.block(e.getMessage());
                return;
            }
        }
        if (counts.stream().distinct().count() > 1) {
            findings.block("table " + table + " is not sharded on source '" + source.name() + "' (no [[sharded_tables]] "
                    + "entry for database \"" + source.name() + "\"), so it must be the same on every source shard, "
                    + "but the shards hold " + counts + " rows", "add its [[sharded_tables]] entry for \""
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
