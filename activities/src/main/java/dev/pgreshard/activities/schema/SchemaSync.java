package dev.pgreshard.activities.schema;

import dev.pgreshard.activities.catalog.Catalog;
import dev.pgreshard.activities.catalog.NotRetryableException;
import dev.pgreshard.activities.catalog.UnknownPublicationException;
import dev.pgreshard.core.config.PgReshardConfig;
import dev.pgreshard.core.pg.Identifiers;
import dev.pgreshard.core.pg.PgConnector;
import dev.pgreshard.core.topology.Cluster;
import dev.pgreshard.core.topology.Shard;
import dev.pgreshard.core.topology.TableName;
import dev.pgreshard.core.topology.Topology;
import dev.pgreshard.workflows.TaskRef;
import dev.pgreshard.workflows.schema.SchemaSyncResult;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Savepoint;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * docs/architecture.md §5.2 / §5.5: the publication's tables (and the sequences and enum/domain types they
 * use) dumped from source shard 0 with pg_dump, applied to every destination shard in one
 * transaction per shard. Idempotent: every step is probed first and skipped when its object
 * exists, so a re-run applies nothing. Foreign keys that cannot hold on shards, triggers and rules
 * are left out with a warning.
 */
public final class SchemaSync {
    private static final Logger LOG = LoggerFactory.getLogger(SchemaSync.class);
    private final PgReshardConfig config;
    private final PgConnector connector;

    public SchemaSync(PgReshardConfig config, PgConnector connector) {
        this.config = config;
        this.connector = connector;
    }

    public SchemaSyncResult run(TaskRef task, SchemaPhase phase) throws SQLException {
        SchemaPlan plan = plan(task, phase);
        return apply(task, plan);
    }

    public SchemaPlan plan(TaskRef task, SchemaPhase phase) throws SQLException {
        Topology topology = Topology.of(config);
        Cluster source = topology.cluster(task.source());
        Cluster destination = topology.cluster(task.destination());
        Shard shard = source.shard(0);
        List<String> warnings = new ArrayList<>();
        List<DdlStep> steps = new ArrayList<>();
        List<TableName> tables;
        List<String> patterns = new ArrayList<>();
        List<ForeignKeys.ForeignKey> foreignKeys;
        int serverMajor;
        try (Connection c = connector.open(shard)) {
            if (!Catalog.publicationExists(c, task.publication())) {
                throw new UnknownPublicationException("publication '" + task.publication() + "' does not exist on source "
                        + shard.describe() + "; CREATE PUBLICATION " + Identifiers.quote(task.publication())
                        + " FOR TABLE ...");
            }
            tables = Catalog.publishedTables(c, task.publication());
            if (tables.isEmpty()) {
                throw new NotRetryableException("publication '" + task.publication() + "' on " + shard.describe()
                        + " lists no tables; ALTER PUBLICATION " + Identifiers.quote(task.publication()) + " ADD TABLE ...");
            }
            serverMajor = Catalog.serverMajor(c);
            try (Statement s = c.createStatement()) {
                // format_type / pg_get_constraintdef then schema-qualify every name
                s.execute("SET search_path = pg_catalog");
            }
            for (TableName t : tables) {
                patterns.add(exactPattern(t));
            }
            if (phase == SchemaPhase.PRE) {
                Set<String> schemas = new TreeSet<>();
                tables.forEach(t -> schemas.add(t.schema()));
                List<DdlStep> types = TypeDdl.forTables(c, tables, schemas);
                for (TableName seq : defaultSequences(c, tables)) {
                    patterns.add(exactPattern(seq));
                    schemas.add(seq.schema());
                }
                for (String schema : schemas) {
                    steps.add(new DdlStep("SCHEMA " + schema, "CREATE SCHEMA " + Identifiers.quote(schema) + ";",
                            conn -> exists(conn, "SELECT 1 FROM pg_namespace WHERE nspname = ?", schema)));
                    steps.addAll(SchemaPrivileges.of(c, schema));
                }
                steps.addAll(types);
            }
            foreignKeys = ForeignKeys.of(c, new HashSet<>(tables));
        }
        PgDump pgDump = PgDump.locate(config.general().pgDumpPath(), serverMajor);
        List<String> options = new ArrayList<>(List.of("--schema-only", "--section=" + phase.section(),
                // GRANTs come along (not owners: the worker's login owns what it creates, see SchemaPrivileges)
                "--no-owner", "--no-publications", "--no-subscriptions", "--no-security-labels",
                "--no-tablespaces", "--strict-names"));
        for (String p : patterns) {
            options.add("--table=" + p);
        }
        LOG.info("schema sync {}: pg_dump {} of {} tables from {}", phase.section(), pgDump, tables.size(), shard.describe());
        DumpScript script = DumpScript.parse(pgDump.dump(shard, config.serverCredentials(source.name()), options));

        Set<String> skippedForeignKeys = new HashSet<>();
        Set<TableName> moved = new HashSet<>(tables);
        for (ForeignKeys.ForeignKey fk : foreignKeys) {
            ForeignKeys.whyNotColocated(fk, destination, moved).ifPresent(why -> {
                skippedForeignKeys.add(fk.table().schema() + "\0" + fk.dumpName());
                warnings.add("foreign key " + fk.name() + " of " + fk.table() + " → " + fk.referenced()
                        + " skipped on '" + destination.name() + "': " + why);
            });
        }
        for (DumpEntry e : script.entries()) {
            DdlStep step = toStep(e, skippedForeignKeys, warnings);
            if (step != null) {
                steps.add(step);
            }
        }
        if (phase == SchemaPhase.PRE) {
            try (Connection c = connector.open(shard)) {
                steps.addAll(SchemaPrivileges.ofOwners(c, script.entries()));
            }
        }
        return new SchemaPlan(phase, script.preamble(), List.copyOf(steps), List.copyOf(warnings));
    }

    /**
     * A pg_dump -t pattern that matches exactly this name: inside double quotes, pattern characters
     * ({@code * ? . $} and regex syntax) are literal and case is kept; a quote is written twice.
     */
    static String exactPattern(TableName t) {
        return Identifiers.quote(t.schema()) + "." + Identifiers.quote(t.name());
    }

    private static DdlStep toStep(DumpEntry e, Set<String> skippedForeignKeys, List<String> warnings) {
        String label = e.type() + " " + e.schema() + "." + e.name();
        String relation = Identifiers.quote(e.schema()) + "." + Identifiers.quote(e.name());
        switch (e.type()) {
            case "TABLE", "SEQUENCE", "INDEX", "VIEW", "MATERIALIZED VIEW":
                return new DdlStep(label, e.sql(), c -> exists(c, "SELECT 1 WHERE to_regclass(?) IS NOT NULL", relation));
            case "DEFAULT":
                return new DdlStep(label, e.sql(), c -> exists(c, """
                        SELECT 1 FROM pg_attrdef d JOIN pg_attribute a ON a.attrelid = d.adrelid AND a.attnum = d.adnum
                        JOIN pg_class cl ON cl.oid = d.adrelid JOIN pg_namespace n ON n.oid = cl.relnamespace
                        WHERE n.nspname = ? AND cl.relname || ' ' || a.attname = ?""", e.schema(), e.name()));
            case "FK CONSTRAINT":
                if (skippedForeignKeys.contains(e.schema() + "\0" + e.name())) {
                    return null;
                }
                return constraint(label, e);
            case "CONSTRAINT", "CHECK CONSTRAINT":
                return constraint(label, e);
            case "ACL":
                // GRANT/REVOKE as on the source, also when the object was there already: idempotent
                return new DdlStep(label, e.sql(), c -> false);
            case "DEFAULT ACL":
                warnings.add("default privileges " + e.name() + " not copied; set ALTER DEFAULT PRIVILEGES on the "
                        + "destination for objects created there after the cutover");
                return null;
            case "TRIGGER", "RULE", "EVENT TRIGGER", "POLICY", "ROW SECURITY":
                // a trigger on a destination shard would fire a second time for every replicated change
                warnings.add(e.type().toLowerCase() + " " + e.name() + " in schema " + e.schema()
                        + " not created on the destination (it would fire again for replicated changes); "
                        + "create it after cutover");
                return null;
            default:
                // SEQUENCE OWNED BY, COMMENT, INDEX ATTACH, ...: part of the object before them
                return new DdlStep(label, e.sql(), null);
        }
    }

    private static DdlStep constraint(String label, DumpEntry e) {
        return new DdlStep(label, e.sql(), c -> exists(c, """
                SELECT 1 FROM pg_constraint con JOIN pg_class cl ON cl.oid = con.conrelid
                JOIN pg_namespace n ON n.oid = cl.relnamespace
                WHERE n.nspname = ? AND cl.relname || ' ' || con.conname = ?""", e.schema(), e.name()));
    }

    private static boolean exists(Connection c, String sql, String... params) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            for (int i = 0; i < params.length; i++) {
                ps.setString(i + 1, params[i]);
            }
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next();
            }
        }
    }

    /** Sequences named in the columns' defaults (nextval) that the tables do not own; -t does not pull them in. */
    private static List<TableName> defaultSequences(Connection c, List<TableName> tables) throws SQLException {
        Set<TableName> seqs = new LinkedHashSet<>();
        for (TableName t : tables) {
            try (PreparedStatement ps = c.prepareStatement("""
                    SELECT DISTINCT n.nspname, s.relname FROM pg_attrdef d
                    JOIN pg_depend dep ON dep.classid = 'pg_attrdef'::regclass AND dep.objid = d.oid
                         AND dep.refclassid = 'pg_class'::regclass
                    JOIN pg_class s ON s.oid = dep.refobjid AND s.relkind = 'S'
                    JOIN pg_namespace n ON n.oid = s.relnamespace
                    WHERE d.adrelid = to_regclass(?)""")) {
                ps.setString(1, t.quoted());
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        seqs.add(new TableName(rs.getString(1), rs.getString(2)));
                    }
                }
            }
        }
        return List.copyOf(seqs);
    }

    /** Applies the plan to every destination shard, one transaction per shard. */
    public SchemaSyncResult apply(TaskRef task, SchemaPlan plan) throws SQLException {
        Cluster destination = Topology.of(config).cluster(task.destination());
        int applied = 0;
        for (Shard shard : destination.shards()) {
            applied = Math.max(applied, applyTo(shard, plan));
        }
        return new SchemaSyncResult(applied, plan.warnings());
    }

    private int applyTo(Shard shard, SchemaPlan plan) throws SQLException {
        try (Connection c = connector.open(shard)) {
            c.setAutoCommit(false);
            try (Statement s = c.createStatement()) {
                for (String set : plan.preamble()) {
                    // a newer pg_dump may set a parameter an older destination lacks: skip just that one
                    Savepoint sp = c.setSavepoint();
                    try {
                        s.execute(set);
                    } catch (SQLException e) {
                        c.rollback(sp);
                        LOG.warn("{}: skipped '{}': {}", shard.describe(), set, e.getMessage());
                    }
                }
                int applied = 0;
                boolean previousApplied = false;
                for (DdlStep step : plan.steps()) {
                    boolean run = step.probe() == null ? previousApplied : !step.probe().exists(c);
                    if (run) {
                        try {
                            s.execute(step.sql());
                        } catch (SQLException e) {
                            c.rollback();
                            throw failure(shard, step, e);
                        }
                        applied++;
                    }
                    if (step.probe() != null) {
                        previousApplied = run;
                    }
                }
                c.commit();
                LOG.info("schema sync {} on {}: {} statements applied", plan.phase().section(), shard.describe(), applied);
                return applied;
            }
        }
    }

    private static SQLException failure(Shard shard, DdlStep step, SQLException e) {
        String state = e.getSQLState() == null ? "" : e.getSQLState();
        String message = "schema sync on destination " + shard.describe() + " failed at " + step.label() + ": "
                + e.getMessage().replace('\n', ' ') + "; nothing was changed on that shard";
        if (state.startsWith("08") || state.startsWith("57P") || state.startsWith("53")) {
            return new SQLException(message, state, e); // the server went away: a retry may work
        }
        throw new NotRetryableException(message + " (fix the destination, e.g. create the missing extension or role)", e);
    }
}
