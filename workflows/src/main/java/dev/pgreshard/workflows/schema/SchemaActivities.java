package dev.pgreshard.workflows.schema;

import dev.pgreshard.workflows.TaskRef;
import io.temporal.activity.ActivityInterface;
import io.temporal.activity.ActivityMethod;

/** docs/architecture.md §5.2 and §5.5: pg_dump of the publication's tables, applied to every destination shard. */
@ActivityInterface(namePrefix = "Schema")
public interface SchemaActivities {
    /** Tables, sequences and the types they use; idempotent (a re-run changes nothing). */
    @ActivityMethod
    SchemaSyncResult syncPreData(TaskRef task);

    /** Indexes, constraints (FKs only between co-located tables, else skipped with a warning), triggers. */
    @ActivityMethod
    SchemaSyncResult syncPostData(TaskRef task);
}
