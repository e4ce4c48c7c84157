package dev.pgreshard.cli;

import dev.pgreshard.activities.replication.ReplicationRunner;
import dev.pgreshard.activities.replication.ReplicationSettings;
import dev.pgreshard.activities.replication.SlotManager;
import dev.pgreshard.activities.replication.StreamEndpoints;
import dev.pgreshard.core.config.PgReshardConfig;
import dev.pgreshard.core.pg.PgConnector;
import dev.pgreshard.core.topology.Topology;
import dev.pgreshard.workflows.TaskRef;
import dev.pgreshard.workflows.replication.Direction;
import dev.pgreshard.workflows.replication.ReplicationRequest;
import dev.pgreshard.workflows.replication.ReplicationStatus;
import dev.pgreshard.workflows.replication.TableStart;

import java.io.PrintWriter;
import java.sql.SQLException;
import java.util.List;
import java.util.Locale;

/**
 * {@code data-sync}'s replication in the foreground: the same runner the replication activity uses,
 * reporting lag once a second until Ctrl-C. Its slot outlives the process on purpose (so
 * {@code --replicate-only} resumes exactly once); {@link #drop()} removes it.
 */
final class ForegroundReplication {
    private final PgReshardConfig config;
    private final PgConnector connector;
    private final TaskRef task;
    private final PrintWriter out;

    ForegroundReplication(PgReshardConfig config, PgConnector connector, TaskRef task, PrintWriter out) {
        this.config = config;
        this.connector = connector;
        this.task = task;
        this.out = out;
    }

    private StreamEndpoints endpoints() {
        return StreamEndpoints.of(Topology.of(config), new ReplicationRequest(task, Direction.FORWARD, List.of()));
    }

    void createSlots() {
        try {
            new SlotManager(connector).createSlots(endpoints());
        } catch (SQLException e) {
            throw new IllegalStateException("cannot create the replication slot " + task.forwardSlot(0) + ": "
                    + e.getMessage(), e);
        }
    }

    void drop() {
        try {
            new SlotManager(connector).dropSlots(endpoints());
        } catch (SQLException e) {
            throw new IllegalStateException("cannot drop the replication slot " + task.forwardSlot(0) + ": "
                    + e.getMessage(), e);
        }
    }

    /** Replicates until Ctrl-C (or an interrupt); a failure (e.g. schema drift) is thrown. */
    void run(List<TableStart> starts) {
        ReplicationRunner runner = new ReplicationRunner(config, connector,
                new ReplicationRequest(task, Direction.FORWARD, starts), ReplicationSettings.DEFAULTS);
        Thread hook = new Thread(() -> {
            runner.stop();
            try {
                runner.awaitTermination();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "pgreshard-data-sync-stop");
        Runtime.getRuntime().addShutdownHook(hook);
        out.println("data-sync: replicating " + task.source() + " -> " + task.destination() + " from slot "
                + task.forwardSlot(0) + "; Ctrl-C stops (the slot is kept: --replicate-only resumes, --drop ends it)");
        out.flush();
        try {
            runner.runUntilInterrupted(this::report, 1000);
        } finally {
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException shuttingDown) {
                // Ctrl-C: the hook is running and stops the runner itself
            }
        }
        out.println("data-sync: replication stopped after " + runner.changesApplied() + " change(s); slot "
                + task.forwardSlot(0) + " kept");
        out.flush();
    }

    private void report(ReplicationStatus s) {
        out.printf(Locale.ROOT, "lag: %d bytes, %.1f s%n", s.lagBytes(), s.lagSeconds());
        out.flush();
    }
}
