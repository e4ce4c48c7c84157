package dev.pgreshard.activities.schema;

import dev.pgreshard.activities.catalog.Failures;
import dev.pgreshard.activities.support.HeartbeatTicker;
import dev.pgreshard.core.config.PgReshardConfig;
import dev.pgreshard.core.pg.PgConnector;
import dev.pgreshard.workflows.TaskRef;
import dev.pgreshard.workflows.schema.SchemaActivities;
import dev.pgreshard.workflows.schema.SchemaSyncResult;

/** Thin Temporal wrapper over {@link SchemaSync}. */
public class SchemaActivitiesImpl implements SchemaActivities {
    private final SchemaSync sync;

    public SchemaActivitiesImpl(PgReshardConfig config, PgConnector connector) {
        this.sync = new SchemaSync(config, connector);
    }

    @Override
    public SchemaSyncResult syncPreData(TaskRef task) {
        return HeartbeatTicker.during(() -> Failures.translate(() -> sync.run(task, SchemaPhase.PRE)));
    }

    @Override
    public SchemaSyncResult syncPostData(TaskRef task) {
        return HeartbeatTicker.during(() -> Failures.translate(() -> sync.run(task, SchemaPhase.POST)));
    }
}
