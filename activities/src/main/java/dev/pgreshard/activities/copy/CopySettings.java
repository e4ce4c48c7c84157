package dev.pgreshard.activities.copy;

import dev.pgreshard.core.config.PgReshardConfig;
import dev.pgreshard.core.topology.Cluster;

/** The copy knobs of [general], resolved for one destination. */
public final class CopySettings {
    private CopySettings() {
    }

    /** copy_parallelism, where 0 means one stream per destination shard (each shard's COPY is the bottleneck). */
    public static int parallelism(PgReshardConfig config, Cluster destination) {
        int p = config.general().copyParallelism();
        return p > 0 ? p : Math.max(1, destination.shardCount());
    }

    public static long splitThresholdBytes(PgReshardConfig config) {
        return Math.max(1, config.general().copySplitThresholdBytes());
    }
}
