package dev.pgreshard.workflows.replication;

/**
 * FORWARD: source cluster → destination cluster, publication = the task's, slot {@code forwardSlot(i)}
 * on each source shard. REVERSE (after cutover): destination cluster → source cluster, publication
 * {@code reversePublication()} and slot {@code reverseSlot(i)} on each destination shard.
 */
public enum Direction {
    FORWARD,
    REVERSE
}
