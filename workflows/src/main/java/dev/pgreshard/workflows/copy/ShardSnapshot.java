package dev.pgreshard.workflows.copy;

import dev.pgreshard.core.pg.Lsn;

/** The consistent point of the snapshot a table was copied at, on source shard {@code sourceShard}. */
public record ShardSnapshot(int sourceShard, Lsn lsn) {
}
