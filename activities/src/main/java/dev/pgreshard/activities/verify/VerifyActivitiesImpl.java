package dev.pgreshard.activities.verify;

import dev.pgreshard.activities.catalog.Failures;
import dev.pgreshard.core.config.PgReshardConfig;
import dev.pgreshard.core.pg.PgConnector;
import dev.pgreshard.workflows.TaskRef;
import dev.pgreshard.workflows.verify.VerifyActivities;
import dev.pgreshard.workflows.verify.VerifyReport;

/** Thin Temporal wrapper over {@link Verifier}. */
public class VerifyActivitiesImpl implements VerifyActivities {
    private final Verifier verifier;

    public VerifyActivitiesImpl(PgReshardConfig config, PgConnector connector) {
        this.verifier = new Verifier(config, connector);
    }

    @Override
    public VerifyReport verify(TaskRef task) {
        return Failures.translate(() -> verifier.verify(task));
    }
}
