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

import dev.pgreshard.activities.replication.SchemaDriftException;

import java.io.PrintWriter;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
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

    /**
     * Replicates until Ctrl-C (or an interrupt). A lost connection (a source or shard restarting, a
     * terminated backend, a network cut) is not the end: after a line saying so it reconnects with
     * backoff and resumes from the slot and the destination's recorded progress, so nothing is lost or
     * applied twice. A failure no reconnect can fix (schema drift, the slot gone, a refused login) is thrown.
     */
    void run(List<TableStart> starts) {
        AtomicReference<ReplicationRunner> current = new AtomicReference<>();
        CountDownLatch stopping = new CountDownLatch(1);
        Thread hook = new Thread(() -> {
            stopping.countDown();
            ReplicationRunner runner = current.get();
            if (runner != null) {
                runner.stop();
                try {
                    runner.awaitTermination();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                } catch (RuntimeException ignored) {
                    // stopping anyway
                }
            }
        }, "pgreshard-data-sync-stop");
        Runtime.getRuntime().addShutdownHook(hook);
        out.println("data-sync: replicating " + task.source() + " -> " + task.destination() + " from slot "
                + task.forwardSlot(0) + "; Ctrl-C stops (the slot is kept: --replicate-only resumes, --drop ends it)");
        out.flush();
        long changes = 0;
        try {
            Backoff backoff = new Backoff(INITIAL_BACKOFF, MAX_BACKOFF);
            while (stopping.getCount() > 0 && !Thread.currentThread().isInterrupted()) {
                ReplicationRunner runner = new ReplicationRunner(config, connector,
                        new ReplicationRequest(task, Direction.FORWARD, starts), ReplicationSettings.DEFAULTS);
                current.set(runner);
                long startedNs = System.nanoTime();
                try {
                    runner.runUntilInterrupted(this::report, 1000);
                    changes += runner.changesApplied();
                    break; // stopped: Ctrl-C or an interrupt
                } catch (RuntimeException e) {
                    changes += runner.changesApplied();
                    if (stopping.getCount() == 0 || !reconnectable(e)) {
                        throw e;
                    }
                    if (System.nanoTime() - startedNs > HEALTHY.toNanos()) {
                        backoff.reset(); // it ran well for a while: this is a new outage
                    }
                    Duration wait = backoff.next();
                    out.printf(Locale.ROOT, "data-sync: replication lost (%s); reconnecting in %d s and resuming from "
                            + "slot %s (Ctrl-C stops)%n", oneLine(e), wait.toSeconds(), task.forwardSlot(0));
                    out.flush();
                    if (stopping.await(wait.toMillis(), TimeUnit.MILLISECONDS)) {
                        break;
                    }
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException shuttingDown) {
                // Ctrl-C: the hook is running and stops the runner itself
            }
        }
        out.println("data-sync: replication stopped after " + changes + " change(s); slot "
                + task.forwardSlot(0) + " kept");
        out.flush();
    }

    private static final Duration INITIAL_BACKOFF = Duration.ofSeconds(1);
    private static final Duration MAX_BACKOFF = Duration.ofSeconds(30);
    /** A stream that ran this long before failing starts its backoff again from the beginning. */
    private static final Duration HEALTHY = Duration.ofMinutes(1);

    /**
     * Whether reconnecting may help: not for schema drift, a missing slot (42704), a refused login
     * (28xxx) or a database that does not exist (3D000); yes for everything else (connection
     * failures, 57P01 admin shutdown, 57P03 starting up, I/O errors).
     */
    static boolean reconnectable(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof SchemaDriftException) {
                return false;
            }
            if (t instanceof SQLException sql && sql.getSQLState() != null) {
                String state = sql.getSQLState();
                if (state.equals("42704") || state.startsWith("28") || state.equals("3D000")) {
                    return false;
                }
            }
        }
        return true;
    }

    private static String oneLine(Throwable e) {
        String m = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        return m.lines().findFirst().orElse(m);
    }

    /** Doubling waits, capped. */
    static final class Backoff {
        private final Duration initial;
        private final Duration max;
        private Duration next;

        Backoff(Duration initial, Duration max) {
            this.initial = initial;
            this.max = max;
            this.next = initial;
        }

        Duration next() {
            Duration now = next;
            next = next.multipliedBy(2).compareTo(max) > 0 ? max : next.multipliedBy(2);
            return now;
        }

        void reset() {
            next = initial;
        }
    }

    private void report(ReplicationStatus s) {
        out.printf(Locale.ROOT, "lag: %d bytes, %.1f s%n", s.lagBytes(), s.lagSeconds());
        out.flush();
    }
}
