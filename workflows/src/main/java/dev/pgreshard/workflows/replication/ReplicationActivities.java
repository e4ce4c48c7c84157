package dev.pgreshard.workflows.replication;

import dev.pgreshard.workflows.copy.ShardSnapshot;
import io.temporal.activity.ActivityInterface;
import io.temporal.activity.ActivityMethod;

import java.util.List;

/**
 * docs/architecture.md §5.3, §5.6, §5.9: logical replication from every shard of one cluster to the shards
 * of another, routed by the sharding function, exactly once.
 */
@ActivityInterface(namePrefix = "Replication")
public interface ReplicationActivities {
    /**
     * Creates the permanent pgoutput slot of the stream on every shard it reads from (and, for
     * {@link Direction#REVERSE}, the publication on each destination shard). Idempotent: an existing
     * slot of that name is kept and its position returned.
     */
    @ActivityMethod
    List<ShardSnapshot> createSlots(ReplicationRequest request);

    /**
     * Streams and applies until cancelled, heartbeating {@link ReplicationStatus}. Each destination
     * shard stores its progress in the same transaction as the changes; a retry resumes from there
     * without losing or repeating a change. Schema drift fails non-retryably, naming table and column.
     */
    @ActivityMethod
    void replicate(ReplicationRequest request);

    /** Where the stream stands now: per source shard, its current WAL position and what is applied. */
    @ActivityMethod
    ReplicationStatus status(ReplicationRequest request);

    /** Drops the stream's slots (and reverse publications) wherever they exist; idempotent. */
    @ActivityMethod
    void dropSlots(ReplicationRequest request);
}
