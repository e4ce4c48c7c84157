package dev.pgreshard.workflows.copy;

import dev.pgreshard.core.topology.TableName;
import dev.pgreshard.workflows.TaskRef;

/**
 * Hold one exported snapshot of {@code table} on source shard {@code sourceShard} for a split copy;
 * {@code generation} counts the table's restarts (a new snapshot each), so a holder's key is unique.
 */
public record SnapshotHold(TaskRef task, TableName table, int sourceShard, int generation) {

    /** The control store key under which the holder publishes the snapshot. */
    public String key() {
        return task.taskId() + "/" + table + "/" + sourceShard + "/" + generation;
    }
}
