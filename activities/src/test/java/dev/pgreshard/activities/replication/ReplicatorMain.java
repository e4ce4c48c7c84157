package dev.pgreshard.activities.replication;

import dev.pgreshard.core.config.ConfigLoader;
import dev.pgreshard.core.config.PgReshardConfig;
import dev.pgreshard.core.pg.PgConnector;
import dev.pgreshard.workflows.TaskRef;
import dev.pgreshard.workflows.replication.Direction;
import dev.pgreshard.workflows.replication.ReplicationRequest;

import java.nio.file.Path;
import java.util.List;

/**
 * A replicating process for crash tests: runs the forward stream of a task until killed, retrying
 * after a failure the way a Temporal activity retry would (e.g. while the server still holds the
 * slot for the walsender of a killed predecessor).
 * Arguments: config file, task id, source, destination, publication, and optionally {@code defaults}
 * to run with the production batch settings (benchmarks) instead of the test ones.
 */
public final class ReplicatorMain {
    public static void main(String[] args) throws Exception {
        PgReshardConfig config = ConfigLoader.load(Path.of(args[0]));
        ReplicationRequest request = new ReplicationRequest(new TaskRef(args[1], args[2], args[3], args[4]),
                Direction.FORWARD, List.of());
        ReplicationSettings settings = args.length > 5 && args[5].equals("defaults")
                ? ReplicationSettings.DEFAULTS : ReplicationTestCluster.FAST;
        System.out.println("STARTED");
        while (true) {
            ReplicationRunner runner = new ReplicationRunner(config, new PgConnector(config), request, settings);
            try {
                runner.runUntilInterrupted(s -> { }, 500);
            } catch (RuntimeException e) {
                System.out.println("RETRY after " + e);
            }
            Thread.sleep(300);
        }
    }
}
