package dev.pgreshard.cli.demo;

import dev.pgreshard.core.config.PgReshardConfig;
import dev.pgreshard.core.pg.PgConnector;
import dev.pgreshard.core.topology.Shard;
import dev.pgreshard.core.topology.Topology;
import dev.pgreshard.workflows.TaskRef;
import dev.pgreshard.workflows.schema.SchemaActivities;
import dev.pgreshard.workflows.schema.SchemaSyncResult;
import io.temporal.failure.ApplicationFailure;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.List;

/**
 * Schema sync for the demo on a machine without PostgreSQL's client tools: schema sync normally
 * dumps the source with pg_dump, which no Maven artifact ships. The demo knows its own schema
 * ({@link DemoData}), so this worker applies that DDL to every destination shard, tables before the
 * copy and indexes and foreign keys after it, as the pg_dump path would. Never used outside the demo.
 */
final class DemoSchemaActivities implements SchemaActivities {
    static final String WARNING = "pg_dump not found: the demo applied its own schema DDL to the destination shards "
            + "(install the PostgreSQL client tools to see schema sync by pg_dump)";
    private final PgReshardConfig config;
    private final PgConnector connector;

    DemoSchemaActivities(PgReshardConfig config) {
        this.config = config;
        this.connector = new PgConnector(config);
    }

    @Override
    public SchemaSyncResult syncPreData(TaskRef task) {
        return applyToDestination(task, DemoData.tables());
    }

    @Override
    public SchemaSyncResult syncPostData(TaskRef task) {
        return applyToDestination(task, DemoData.postData());
    }

    private SchemaSyncResult applyToDestination(TaskRef task, List<String> statements) {
        for (Shard shard : Topology.of(config).cluster(task.destination()).shards()) {
            try (Connection c = connector.open(shard)) {
                DemoData.apply(c, statements);
            } catch (SQLException e) {
                throw ApplicationFailure.newFailureWithCause("demo schema on " + shard.describe() + ": " + e.getMessage(),
                        "SQLException", e);
            }
        }
        return new SchemaSyncResult(statements.size(), List.of(WARNING));
    }
}
