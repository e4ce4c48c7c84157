package dev.pgreshard.workflows.replication;

import java.util.List;

/**
 * Lag of a stream: bytes ({@code pg_current_wal_lsn()} − applied, summed over source shards) and
 * seconds (now − commit time of the oldest last-applied transaction, 0 when caught up).
 */
public record ReplicationStatus(List<StreamPosition> positions, long lagBytes, double lagSeconds) {
}
