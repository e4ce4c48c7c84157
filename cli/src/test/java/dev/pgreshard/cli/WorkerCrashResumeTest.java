package dev.pgreshard.cli;

import dev.pgreshard.cli.ShardCommandTest.Result;
import dev.pgreshard.activities.replication.ReplicationActivitiesImpl;
import dev.pgreshard.core.config.ConfigLoader;
import dev.pgreshard.core.config.PgReshardConfig;
import dev.pgreshard.core.pg.Lsn;
import dev.pgreshard.core.pg.PgConnector;
import dev.pgreshard.testkit.ChildJvm;
import dev.pgreshard.workflows.TaskRef;
import dev.pgreshard.workflows.replication.Direction;
import dev.pgreshard.workflows.replication.ReplicationRequest;
import dev.pgreshard.workflows.replication.ReplicationStatus;
import dev.pgreshard.testkit.PostgresExtension;
import dev.pgreshard.testkit.StandaloneTemporalServer;
import dev.pgreshard.testkit.TestDatabase;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import static dev.pgreshard.cli.ShardCommandTest.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Crash-resume: the worker runs in its own JVM against a standalone Temporal test server and is
 * killed with SIGKILL again and again — during schema sync, mid-copy, during replication under a
 * write load — and replaced by a new one. The task must still reach its cutover point with the
 * destination equal to the source (verify clean), and stopping it must leave no replication slot.
 * Kills: -Dpgreshard.crash.kills=N (default 4 in `mvn verify`; the full run uses 20).
 */
@ExtendWith(PostgresExtension.class)
class WorkerCrashResumeTest {
    private static final Logger LOG = LoggerFactory.getLogger(WorkerCrashResumeTest.class);
    private final Random random = new Random(Long.getLong("pgreshard.crash.seed", System.nanoTime()));

    @Test
    void killedWorkersResumeWithoutLosingOrDuplicatingRows(TestDatabase control, TestDatabase src, TestDatabase d0,
                                                           TestDatabase d1, @TempDir Path dir) throws Exception {
        int kills = Integer.getInteger("pgreshard.crash.kills", 4);
        src.execute("CREATE TABLE orders (id bigint PRIMARY KEY, customer_id bigint NOT NULL, amount numeric, note text)",
                "ALTER TABLE orders REPLICA IDENTITY FULL", // shard-key-moving updates need the old key
                "INSERT INTO orders SELECT g, g % 5000, g * 0.25, repeat('x', 80) FROM generate_series(1, 300000) g",
                "CREATE TABLE regions (code text PRIMARY KEY, name text)",
                "INSERT INTO regions VALUES ('eu', 'Europe'), ('us', 'Americas')",
                "CREATE PUBLICATION pub FOR TABLE orders, regions");
        try (StandaloneTemporalServer temporal = StandaloneTemporalServer.start()) {
            Path cfg = dir.resolve("pgreshard.toml");
            Files.writeString(cfg, "[temporal]\ntarget = \"" + temporal.target() + "\"\nheartbeat_timeout_seconds = 8\n"
                    + "[control]\nurl = \"" + control.jdbcUrl() + "\"\nuser = \"postgres\"\npassword = \"postgres\"\n"
                    + src.databasesEntry("src", 0) + d0.databasesEntry("dst", 0) + d1.databasesEntry("dst", 1)
                    + "[[sharded_tables]]\ndatabase = \"dst\"\nname = \"orders\"\ncolumn = \"customer_id\"\n"
                    + "data_type = \"bigint\"\n");
            Files.writeString(dir.resolve("users.toml"), src.usersEntry("src") + d0.usersEntry("dst"));

            ChildJvm worker = startWorker(cfg);
            Writer writer = new Writer(src);
            List<String> killedIn = new ArrayList<>();
            try {
                Result started = run("reshard", "--config", cfg.toString(), "src", "dst", "pub", "--manual-cutover");
                assertEquals(0, started.exit(), started.err());
                String taskId = started.out().strip();
                writer.start();

                for (int k = 0; k < kills; k++) {
                    // the first kills land as early as the phases allow; the rest at random moments
                    String target = k == 0 ? "SCHEMA_PRE" : k <= 2 ? "COPY" : "REPLICATING";
                    awaitPhase(control, taskId, target, Duration.ofMinutes(3));
                    // a copy of this table takes a couple of seconds: kill within it, elsewhere anywhere
                    Thread.sleep(target.equals("REPLICATING") ? 300 + random.nextInt(2500) : random.nextInt(150));
                    String phase = phase(control, taskId);
                    worker.kill();
                    killedIn.add(phase);
                    LOG.info("kill {} of {}: worker SIGKILLed in phase {}", k + 1, kills, phase);
                    worker = startWorker(cfg);
                }
                awaitState(control, taskId, "WAITING_FOR_CUTOVER", Duration.ofMinutes(4));
                writer.stop();
                assertTrue(writer.committed.get() > 0, "the writer committed changes during the run");

                // lag first, then verify: a mismatch after the drain is a lost or repeated change, not lag
                String stopLsn = src.queryRows("SELECT pg_current_wal_lsn()::text").get(0).get(0);
                ReplicationStatus drained = awaitApplied(ConfigLoader.load(cfg), taskId, Lsn.parse(stopLsn),
                        Duration.ofMinutes(5));
                LOG.info("replication applied {} (source was at {} when the writer stopped)",
                        drained.positions(), stopLsn);
                Result verify = run("verify", "--config", cfg.toString(), "src", "dst", "pub");
                assertEquals(0, verify.exit(), "verify after " + kills + " kills in " + killedIn + ", replication "
                        + drained + ":\n" + verify.out() + verify.err());

                Result stopped = run("stop", "--config", cfg.toString(), taskId);
                assertEquals(0, stopped.exit(), stopped.err());
                assertEquals(0, src.queryLong("SELECT count(*) FROM pg_replication_slots WHERE database = current_database()"),
                        "no replication slot may outlive the task");
                LOG.info("{} kills in phases {}; writer committed {} changes; verify clean", kills, killedIn,
                        writer.committed.get());
                assertTrue(killedIn.contains("COPY") && killedIn.contains("REPLICATING"), killedIn.toString());
            } finally {
                writer.stop();
                worker.close();
            }
        }
    }

    /** Waits until every destination shard durably applied the source up to {@code target}. */
    private static ReplicationStatus awaitApplied(PgReshardConfig config, String taskId, Lsn target, Duration timeout)
            throws InterruptedException {
        ReplicationActivitiesImpl replication = new ReplicationActivitiesImpl(config, new PgConnector(config));
        ReplicationRequest request = new ReplicationRequest(new TaskRef(taskId, "src", "dst", "pub"), Direction.FORWARD,
                List.of());
        long deadline = System.nanoTime() + timeout.toNanos();
        ReplicationStatus status = replication.status(request);
        while (status.positions().stream().anyMatch(p -> p.appliedLsn().isBefore(target))) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("replication did not apply up to " + target + " in " + timeout + ": " + status);
            }
            Thread.sleep(500);
            status = replication.status(request);
        }
        return status;
    }

    private static ChildJvm startWorker(Path cfg) throws InterruptedException {
        ChildJvm jvm = ChildJvm.start(PgReshardCommand.class.getName(), List.of("-Xmx512m"),
                List.of("worker", "--config", cfg.toString()));
        long deadline = System.nanoTime() + Duration.ofSeconds(150).toNanos();
        while (!jvm.output().contains("pgreshard worker running")) {
            if (!jvm.isAlive() || System.nanoTime() > deadline) {
                throw new AssertionError("worker did not start:\n" + jvm.output());
            }
            Thread.sleep(100);
        }
        return jvm;
    }

    private static String phase(TestDatabase control, String taskId) {
        return control.queryRows("SELECT phase FROM pgreshard_task WHERE task_id = '" + taskId + "'").get(0).get(0);
    }

    private static void awaitPhase(TestDatabase control, String taskId, String phase, Duration timeout)
            throws InterruptedException {
        List<String> order = List.of("PREFLIGHT", "SCHEMA_PRE", "COPY", "SCHEMA_POST", "REPLICATING");
        long deadline = System.nanoTime() + timeout.toNanos();
        while (order.indexOf(phase(control, taskId)) < order.indexOf(phase)) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("task " + taskId + " did not reach " + phase + "; it is in "
                        + phase(control, taskId));
            }
            Thread.sleep(50);
        }
    }

    private static void awaitState(TestDatabase control, String taskId, String state, Duration timeout)
            throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            List<String> row = control.queryRows("SELECT phase, state, error FROM pgreshard_task WHERE task_id = '"
                    + taskId + "'").get(0);
            if (row.get(1).equals(state)) {
                return;
            }
            if (row.get(0).equals("FAILED") || System.nanoTime() > deadline) {
                throw new AssertionError("task " + taskId + " did not reach " + state + ": " + row);
            }
            Thread.sleep(200);
        }
    }

    /** Inserts, updates (some moving rows between shards) and deletes on the source until stopped. */
    private static final class Writer {
        private final TestDatabase db;
        private final AtomicBoolean running = new AtomicBoolean();
        final AtomicLong committed = new AtomicLong();
        private Thread thread;

        Writer(TestDatabase db) {
            this.db = db;
        }

        void start() {
            running.set(true);
            thread = new Thread(this::loop, "crash-test-writer");
            thread.start();
        }

        private void loop() {
            Random r = new Random(42);
            long nextId = 1_000_000;
            try (Connection c = db.connect();
                 PreparedStatement insert = c.prepareStatement("INSERT INTO orders VALUES (?, ?, ?, 'new')");
                 PreparedStatement update = c.prepareStatement("UPDATE orders SET amount = amount + 1 WHERE id = ?");
                 PreparedStatement move = c.prepareStatement("UPDATE orders SET customer_id = ? WHERE id = ?");
                 PreparedStatement delete = c.prepareStatement("DELETE FROM orders WHERE id = ?")) {
                while (running.get()) {
                    switch (r.nextInt(4)) {
                        case 0 -> {
                            insert.setLong(1, nextId++);
                            insert.setLong(2, r.nextInt(5000));
                            insert.setBigDecimal(3, java.math.BigDecimal.valueOf(r.nextInt(1000)));
                            insert.executeUpdate();
                        }
                        case 1 -> {
                            update.setLong(1, 1 + r.nextInt(300000));
                            update.executeUpdate();
                        }
                        case 2 -> {
                            move.setLong(1, r.nextInt(5000));
                            move.setLong(2, 1 + r.nextInt(300000));
                            move.executeUpdate();
                        }
                        default -> {
                            delete.setLong(1, 1 + r.nextInt(300000));
                            delete.executeUpdate();
                        }
                    }
                    committed.incrementAndGet();
                    Thread.sleep(5);
                }
            } catch (Exception e) {
                throw new IllegalStateException("writer failed", e);
            }
        }

        void stop() throws InterruptedException {
            running.set(false);
            if (thread != null) {
                thread.join();
            }
        }
    }
}
