package dev.pgreshard.activities.preflight;

import dev.pgreshard.activities.catalog.Failures;
import dev.pgreshard.core.config.PgReshardConfig;
import dev.pgreshard.core.pg.PgConnector;
import dev.pgreshard.workflows.TaskRef;
import dev.pgreshard.workflows.preflight.PreflightActivities;
import dev.pgreshard.workflows.preflight.PreflightReport;

/** Thin Temporal wrapper over {@link Preflight}. */
public class PreflightActivitiesImpl implements PreflightActivities {
    private final Preflight preflight;

    public PreflightActivitiesImpl(PgReshardConfig config, PgConnector connector) {
        this.preflight = new Preflight(config, connector);
    }

    @Override
    public PreflightReport check(TaskRef task) {
        return Failures.translate(() -> preflight.check(task));
    }
}
