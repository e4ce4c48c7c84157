package dev.pgreshard.workflows;

/**
 * What every activity of one reshard task is told: names only. Credentials are resolved by the
 * worker from its own config, so no secret ever enters a workflow history.
 *
 * @param taskId      the workflow id, {@code reshard-<src>-<dst>-<seq>}
 * @param source      cluster name of the source ({@code [[databases]] name})
 * @param destination cluster name of the destination
 * @param publication publication on the source (every source shard) listing the tables to move
 */
public record TaskRef(String taskId, String source, String destination, String publication) {

    /** Prefix of every replication slot and publication this task creates (so cleanup can find them all). */
    public String objectPrefix() {
        String id = taskId.toLowerCase().replaceAll("[^a-z0-9_]", "_");
        // PostgreSQL names are at most 63 bytes; leave room for suffixes such as _rev_3
        return "pgreshard_" + (id.length() > 40 ? id.substring(0, 32) + "_" + Integer.toHexString(taskId.hashCode()) : id);
    }

    /**
     * The permanent logical slot of forward replication on source shard {@code shard}. Slot names are
     * unique per server, not per database, so each shard's slot has its own name (several shards may
     * share a server); shard 0 keeps the bare prefix.
     */
    public String forwardSlot(int shard) {
        return shard == 0 ? objectPrefix() : objectPrefix() + "_" + shard;
    }

    /** The reverse-replication slot on destination shard {@code shard}. */
    public String reverseSlot(int shard) {
        return objectPrefix() + "_rev_" + shard;
    }

    /** The publication created on every destination shard for reverse replication. */
    public String reversePublication() {
        return objectPrefix() + "_rev";
    }
}
