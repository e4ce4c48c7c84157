package dev.pgreshard.activities.replication;

import dev.pgreshard.core.topology.Cluster;
import dev.pgreshard.core.topology.Topology;
import dev.pgreshard.workflows.TaskRef;
import dev.pgreshard.workflows.replication.Direction;
import dev.pgreshard.workflows.replication.ReplicationRequest;

/**
 * Which cluster a stream reads, which it writes, and the slot and publication names it uses.
 * FORWARD reads the task's source through its publication and {@code forwardSlot(i)}; REVERSE reads
 * the destination through {@code reversePublication()} and {@code reverseSlot(i)}.
 */
public record StreamEndpoints(TaskRef task, Direction direction, Cluster readCluster, Cluster writeCluster) {

    public static StreamEndpoints of(Topology topology, ReplicationRequest request) {
        TaskRef task = request.task();
        Cluster source = topology.cluster(task.source());
        Cluster destination = topology.cluster(task.destination());
        return request.direction() == Direction.FORWARD
                ? new StreamEndpoints(task, Direction.FORWARD, source, destination)
                : new StreamEndpoints(task, Direction.REVERSE, destination, source);
    }

    /** The slot on read shard {@code shard}. */
    public String slotName(int shard) {
        return direction == Direction.FORWARD ? task.forwardSlot(shard) : task.reverseSlot(shard);
    }

    /** The publication the stream reads. */
    public String publication() {
        return direction == Direction.FORWARD ? task.publication() : task.reversePublication();
    }

    /** "forward stream of task X from shard 1 (...)", for messages. */
    public String describe(int readShard) {
        return direction.name().toLowerCase() + " stream of task " + task.taskId() + " from "
                + readCluster.shard(readShard).describe();
    }
}
