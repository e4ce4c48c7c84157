package dev.pgreshard.workflows.copy;

import dev.pgreshard.core.topology.TableName;
import dev.pgreshard.workflows.TaskRef;

/** Copy one table of the task from every source shard to the destination shards. */
public record TableCopyRequest(TaskRef task, TableName table) {
}
