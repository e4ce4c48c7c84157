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
 * @param catchUpBacklogBytes  a slot further behind than this when a stream starts is read through SQL
 *                             decoding ({@link BacklogReader}) until it is not; negative: always stream
 * @param catchUpChunkMessages pgoutput messages per such read (whole transactions: a read ends at a commit);
 *                             the first read takes a fortieth of it, each next one twice the one before
 */
public record ReplicationSettings(int maxBatchTransactions, int maxBatchChanges, long maxBatchDelayMs,
                                  long statusIntervalMs, long idleSleepMs, long idleFlushMs,
                                  long catchUpBacklogBytes, int catchUpChunkMessages) {
    /**
     * A backlog over 16 MB (tens of thousands of transactions: seconds of streaming) is read ahead in
     * reads of up to 1 000 000 messages (≈ 200 000 small transactions; the source spills a read's rows
     * to a temporary file past work_mem; the worker holds at most ≈ 400 000 messages of it).
     */
    public static final ReplicationSettings DEFAULTS = new ReplicationSettings(5000, 50000, 250, 1000, 1, 20,
            16L << 20, 1_000_000);

    public ReplicationSettings {
        if (catchUpChunkMessages < 1) {
            throw new IllegalArgumentException("catchUpChunkMessages must be at least 1, got " + catchUpChunkMessages);
        }
    }
}
