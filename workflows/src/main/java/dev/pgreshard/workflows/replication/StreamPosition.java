package dev.pgreshard.workflows.replication;

import dev.pgreshard.core.pg.Lsn;

/**
 * One source shard of a stream.
 *
 * @param sourceShard        index of the shard the stream reads
 * @param currentLsn         {@code pg_current_wal_lsn()} there
 * @param appliedLsn         the least position durably applied over all destination shards
 * @param lastCommitEpochMs  commit time of the last applied source transaction (0: none yet)
 */
public record StreamPosition(int sourceShard, Lsn currentLsn, Lsn appliedLsn, long lastCommitEpochMs) {
    public long lagBytes() {
        return currentLsn.bytesAfter(appliedLsn);
    }
}
