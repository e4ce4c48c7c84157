package dev.pgreshard.workflows.copy;

import dev.pgreshard.core.topology.TableName;
import dev.pgreshard.workflows.TaskRef;

import java.util.List;

/**
 * Copy range {@code index} (of {@code count}) of a split table from every source shard, each read at its
 * held snapshot. A retry first deletes the range on every destination shard (what an earlier attempt wrote).
 */
public record RangeCopyRequest(TaskRef task, TableName table, String keyColumn, String keyType, KeyRange range,
                               int index, int count, List<HeldSnapshot> snapshots) {
}
