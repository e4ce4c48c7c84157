package dev.pgreshard.workflows.replication;

import dev.pgreshard.workflows.TaskRef;

import java.util.List;

/**
 * One replication stream of a task.
 *
 * @param task        the task
 * @param direction   forward or reverse
 * @param tableStarts FORWARD only: per table, the snapshot the copy read on each source shard; changes
 *                    of that table in transactions that committed before the snapshot are skipped
 */
public record ReplicationRequest(TaskRef task, Direction direction, List<TableStart> tableStarts) {
}
