package dev.pgreshard.workflows.copy;

import io.temporal.activity.ActivityInterface;
import io.temporal.activity.ActivityMethod;

/**
 * docs/architecture.md §5.4: one activity per table. It heartbeats {@link CopyProgress}; a retry first
 * empties what an earlier attempt wrote for the table on every destination shard.
 */
@ActivityInterface
public interface CopyActivities {
    @ActivityMethod
    TableCopyResult copyTable(TableCopyRequest request);
}
