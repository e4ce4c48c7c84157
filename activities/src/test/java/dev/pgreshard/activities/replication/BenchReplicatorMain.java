package dev.pgreshard.activities.replication;

import dev.pgreshard.core.config.ConfigLoader;
import dev.pgreshard.core.config.PgReshardConfig;
import dev.pgreshard.core.pg.Lsn;
import dev.pgreshard.core.pg.PgConnector;
import dev.pgreshard.workflows.TaskRef;
import dev.pgreshard.workflows.replication.Direction;
import dev.pgreshard.workflows.replication.ReplicationRequest;
import dev.pgreshard.workflows.replication.StreamPosition;

import java.nio.file.Path;
import java.util.List;

/**
 * bench/replication's pgreshard process, modelling a long-running worker: it first drains a
 * warm-up task (its own slot, publication and table) up to a given LSN so the JIT has compiled
 * the apply path, then streams the measured task until killed.
 * Arguments: config, source, destination, task id, publication, warm-up task id, warm-up publication, warm-up LSN.
 */
public final class BenchReplicatorMain {
    public static void main(String[] args) throws Exception {
        PgReshardConfig config = ConfigLoader.load(Path.of(args[0]));
        PgConnector connector = new PgConnector(config);
        ReplicationRequest warm = new ReplicationRequest(new TaskRef(args[5], args[1], args[2], args[6]), Direction.FORWARD, List.of());
        Lsn warmTarget = Lsn.parse(args[7]);
        ReplicationRunner warmup = new ReplicationRunner(config, connector, warm, ReplicationSettings.DEFAULTS);
        warmup.start();
        while (!warmup.status().positions().stream().map(StreamPosition::appliedLsn).allMatch(l -> !l.isBefore(warmTarget))) {
            if (warmup.failure() != null) {
                throw new IllegalStateException("warm-up failed", warmup.failure());
            }
            Thread.sleep(50);
        }
        warmup.stop();
        warmup.awaitTermination();
        System.out.println("WARM");
        ReplicationRequest request = new ReplicationRequest(new TaskRef(args[3], args[1], args[2], args[4]), Direction.FORWARD, List.of());
        new ReplicationRunner(config, connector, request, ReplicationSettings.DEFAULTS).runUntilInterrupted(s -> { }, 1000);
    }
}
