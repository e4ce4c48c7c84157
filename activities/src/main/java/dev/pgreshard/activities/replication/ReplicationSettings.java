package dev.pgreshard.activities.replication;

/**
 * Tuning of a stream. A batch (one destination transaction per shard) closes at whichever limit
 * comes first, and always when the stream has caught up, so latency stays low at low rates.
 *
 * @param maxBatchTransactions source transactions per destination transaction
 * @param maxBatchChanges      row changes per destination transaction
 * @param maxBatchDelayMs      age of the oldest source transaction waiting in a batch
 * @param statusIntervalMs     how often the slot's standby status and the source WAL position are refreshed
 * @param idleSleepMs          pause when the server has nothing to send
 * @param idleFlushMs          a gap this long in the stream counts as caught up: the batch commits at once
 */
public record ReplicationSettings(int maxBatchTransactions, int maxBatchChanges, long maxBatchDelayMs,
                                  long statusIntervalMs, long idleSleepMs, long idleFlushMs) {
    public static final ReplicationSettings DEFAULTS = new ReplicationSettings(5000, 50000, 250, 1000, 1, 20);
}
