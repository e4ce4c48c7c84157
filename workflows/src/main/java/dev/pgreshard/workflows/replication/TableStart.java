package dev.pgreshard.workflows.replication;

import dev.pgreshard.core.topology.TableName;
import dev.pgreshard.workflows.copy.ShardSnapshot;

import java.util.List;

/** Where replication of one table starts on each source shard: its copy snapshot. */
public record TableStart(TableName table, List<ShardSnapshot> snapshots) {
}
