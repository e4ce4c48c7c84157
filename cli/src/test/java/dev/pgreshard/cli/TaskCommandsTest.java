package dev.pgreshard.cli;

import dev.pgreshard.cli.ShardCommandTest.Result;
import dev.pgreshard.cli.temporal.EmbeddedTemporal;
import dev.pgreshard.cli.worker.MetricsServer;
import dev.pgreshard.cli.worker.WorkerHost;
import dev.pgreshard.core.config.ConfigLoader;
import dev.pgreshard.core.config.PgReshardConfig;
import dev.pgreshard.testkit.FreePorts;
import dev.pgreshard.testkit.PostgresExtension;
import dev.pgreshard.testkit.TestDatabase;
import io.temporal.client.WorkflowClient;
import io.temporal.serviceclient.WorkflowServiceStubs;
import io.temporal.serviceclient.WorkflowServiceStubsOptions;
import io.temporal.worker.WorkerFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static dev.pgreshard.cli.ShardCommandTest.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * reshard / tasks / status / stop through the CLI, against the embedded Temporal server, a worker
 * and a real control store. (The data activities are exercised by their own tests.)
 */
@ExtendWith(PostgresExtension.class)
class TaskCommandsTest {

    @Test
    void reshardToWaitingForCutoverThenStopLeavesNothingBehind(TestDatabase control, TestDatabase src, TestDatabase d0,
                                                              TestDatabase d1, @TempDir Path dir) throws Exception {
        src.execute("CREATE TABLE accounts (id bigint PRIMARY KEY, tenant text NOT NULL, balance numeric)",
                "INSERT INTO accounts SELECT g, 'tenant-' || (g % 7), g * 1.5 FROM generate_series(1, 2000) g",
                "CREATE TABLE plans (code text PRIMARY KEY, price int)",
                "INSERT INTO plans VALUES ('free', 0), ('pro', 20)",
                "CREATE PUBLICATION pub FOR TABLE accounts, plans");
        int temporalPort = FreePorts.next();
        Path cfg = writeConfig(dir, temporalPort, control, src, d0, d1,
                "[[sharded_tables]]\ndatabase = \"dst\"\nname = \"accounts\"\ncolumn = \"id\"\ndata_type = \"bigint\"\n");
        PgReshardConfig config = ConfigLoader.load(cfg);

        try (EmbeddedTemporal temporal = EmbeddedTemporal.start(temporalPort)) {
            WorkflowServiceStubs stubs = WorkflowServiceStubs.newServiceStubs(
                    WorkflowServiceStubsOptions.newBuilder().setTarget("127.0.0.1:" + temporalPort).build());
            WorkerFactory factory = WorkerFactory.newInstance(WorkflowClient.newInstance(stubs));
            try (WorkerHost worker = WorkerHost.start(factory, config)) {
                // someone started a workflow from outside under the id the CLI's sequence comes to next, with a bad input
                io.temporal.client.WorkflowStub outside = WorkflowClient.newInstance(stubs).newUntypedWorkflowStub(
                        "ReshardWorkflow", io.temporal.client.WorkflowOptions.newBuilder().setWorkflowId("reshard-src-dst-1")
                                .setTaskQueue(config.temporal().taskQueue()).build());
                outside.start(java.util.Map.of("source", "src", "destination", "dst", "publication", "pub",
                        "options", java.util.Map.of("manualCutover", "yes")));
                String outsideStatus = awaitStatus(cfg, "reshard-src-dst-1", "phase: FAILED");
                assertTrue(outsideStatus.contains("error: invalid ReshardWorkflow input: \"options.manualCutover\" must be "
                        + "true or false"), outsideStatus);

                Result started = run("reshard", "--config", cfg.toString(), "src", "dst", "pub", "--manual-cutover");
                assertEquals(0, started.exit(), started.err());
                List<String> lines = started.out().lines().toList();
                String taskId = lines.get(lines.size() - 1);
                assertTrue(taskId.matches("reshard-src-dst-\\d+"), taskId);
                assertTrue(!taskId.equals("reshard-src-dst-1"), "the id taken in Temporal is skipped");
                assertEquals(0, control.queryLong("SELECT count(*) FROM pgreshard_task WHERE task_id = 'reshard-src-dst-1'"));

                Result again = run("reshard", "--config", cfg.toString(), "src", "dst", "pub");
                assertEquals(2, again.exit());
                assertTrue(again.err().contains("task " + taskId + " already reshards src into dst"), again.err());

                String status = awaitStatus(cfg, taskId, "state: WAITING_FOR_CUTOVER");
                assertTrue(status.startsWith("phase: REPLICATING"), status);
                assertTrue(status.contains("public.accounts") && status.contains("COPIED"), status);
                // rows written to the shards: the omnisharded plans count once per shard
                assertTrue(status.contains("copy: 2/2 tables copied, 2004 rows written to the shards"), status);
                assertTrue(status.contains("next: `pgreshard cutover " + taskId + "`"), status);
                assertEquals(2000, d0.queryLong("SELECT count(*) FROM accounts") + d1.queryLong("SELECT count(*) FROM accounts"));
                assertEquals(2, d0.queryLong("SELECT count(*) FROM plans"), "omnisharded table on every shard");
                assertEquals(2, d1.queryLong("SELECT count(*) FROM plans"));
                assertEquals(1, src.queryLong("SELECT count(*) FROM pg_replication_slots WHERE slot_name LIKE 'pgreshard%' AND database = current_database()"));

                Result listed = run("tasks", "--config", cfg.toString());
                assertTrue(listed.out().lines().anyMatch(l -> l.startsWith(taskId) && l.contains("REPLICATING")), listed.out());

                assertWorkerMetrics(src, taskId);

                Result stopped = run("stop", "--config", cfg.toString(), taskId);
                assertEquals(0, stopped.exit(), stopped.err());
                assertTrue(stopped.out().startsWith("phase: STOPPED"), stopped.out());
                assertTrue(stopped.out().contains("traffic: database 'src' is served by 'src' (no cutover recorded)"),
                        stopped.out());
                assertEquals(0, src.queryLong("SELECT count(*) FROM pg_replication_slots WHERE database = current_database()"), "no slot left after stop");
                assertTrue(run("tasks", "--config", cfg.toString()).out().lines()
                        .anyMatch(l -> l.startsWith(taskId) && l.contains("STOPPED")));
            } finally {
                stubs.shutdownNow();
            }
        }
    }

    @Test
    void aPreflightFailureIsReportedByStatus(TestDatabase control, TestDatabase src, TestDatabase d0, TestDatabase d1,
                                             @TempDir Path dir) throws Exception {
        src.execute("CREATE TABLE events (id bigint PRIMARY KEY, at timestamptz, what text)",
                "CREATE PUBLICATION pub FOR TABLE events", "ALTER TABLE events REPLICA IDENTITY NOTHING");
        int temporalPort = FreePorts.next();
        Path cfg = writeConfig(dir, temporalPort, control, src, d0, d1, "");
        try (EmbeddedTemporal temporal = EmbeddedTemporal.start(temporalPort)) {
            // reshard runs the plan's checks first: refused with the report, no task
            Result refused = run("reshard", "--config", cfg.toString(), "src", "dst", "pub");
            assertEquals(1, refused.exit(), refused.err());
            assertTrue(refused.err().contains("table public.events on source src shard 0") && refused.err().contains(
                    "REPLICA IDENTITY NOTHING") && refused.err().contains("refused: 1 blocking problem"), refused.err());
            assertEquals(0, control.queryLong("SELECT count(*) FROM pgreshard_task"));

            // a problem that appears after reshard's check (no worker yet) is caught by the workflow's own preflight
            src.execute("ALTER TABLE events REPLICA IDENTITY DEFAULT");
            String taskId = run("reshard", "--config", cfg.toString(), "src", "dst", "pub").out().strip();
            src.execute("ALTER TABLE events REPLICA IDENTITY NOTHING");
            WorkflowServiceStubs stubs = WorkflowServiceStubs.newServiceStubs(
                    WorkflowServiceStubsOptions.newBuilder().setTarget("127.0.0.1:" + temporalPort).build());
            try (WorkerHost worker = WorkerHost.start(WorkerFactory.newInstance(WorkflowClient.newInstance(stubs)),
                    ConfigLoader.load(cfg))) {
                String status = awaitStatus(cfg, taskId, "phase: FAILED");
                assertTrue(status.contains("error: ") && status.contains("public.events"), status);
                assertTrue(status.contains("REPLICA IDENTITY FULL"), status);
                assertEquals(0, src.queryLong("SELECT count(*) FROM pg_replication_slots WHERE database = current_database()"));
                // a failed task frees the pair for the next attempt
                src.execute("ALTER TABLE events REPLICA IDENTITY DEFAULT");
                assertEquals(0, run("reshard", "--config", cfg.toString(), "src", "dst", "pub").exit());
            } finally {
                stubs.shutdownNow();
            }
            // no worker left to answer the workflow's query (a killed worker): the control store's record, explained
            Result noWorker = run("status", "--config", cfg.toString(), taskId);
            assertEquals(0, noWorker.exit(), noWorker.err());
            assertTrue(noWorker.out().startsWith("phase: FAILED"), noWorker.out());
            assertTrue(noWorker.out().contains("no worker answered the status query"), noWorker.out());
        }
    }

    /**
     * A standalone `pgreshard proxy` (a real process, a Temporal client only) serves the task commands
     * in its admin database, with the worker running elsewhere (here: in this JVM).
     */
    @Test
    void aStandaloneProxyServesTheTaskCommands(TestDatabase control, TestDatabase src, TestDatabase d0, TestDatabase d1,
                                               @TempDir Path dir) throws Exception {
        src.execute("CREATE TABLE accounts (id bigint PRIMARY KEY, tenant text NOT NULL)",
                "INSERT INTO accounts SELECT g, 'tenant-' || (g % 7) FROM generate_series(1, 500) g",
                "CREATE PUBLICATION app_pub FOR TABLE accounts");
        int temporalPort = FreePorts.next();
        int proxyPort = FreePorts.next();
        Path cfg = writeConfig(dir, temporalPort, control, src, d0, d1,
                "[[sharded_tables]]\ndatabase = \"dst\"\nname = \"accounts\"\ncolumn = \"id\"\ndata_type = \"bigint\"\n"
                        + "[admin]\nname = \"admin\"\nuser = \"admin\"\npassword = \"admin-secret\"\n");
        Files.writeString(cfg, "[general]\nhost = \"127.0.0.1\"\nport = " + proxyPort + "\ncontrol_port = "
                + FreePorts.next() + "\n" + Files.readString(cfg));
        try (EmbeddedTemporal temporal = EmbeddedTemporal.start(temporalPort)) {
            WorkflowServiceStubs stubs = WorkflowServiceStubs.newServiceStubs(
                    WorkflowServiceStubsOptions.newBuilder().setTarget("127.0.0.1:" + temporalPort).build());
            try (WorkerHost worker = WorkerHost.start(WorkerFactory.newInstance(WorkflowClient.newInstance(stubs)),
                    ConfigLoader.load(cfg));
                 dev.pgreshard.testkit.ChildJvm proxy = dev.pgreshard.testkit.ChildJvm.start(
                         PgReshardCommand.class.getName(), List.of("-Xmx256m"), List.of("proxy", "--config", cfg.toString()))) {
                long deadline = System.nanoTime() + java.time.Duration.ofSeconds(120).toNanos();
                // the command's own line (the proxy's log says "listening" a moment earlier)
                while (!proxy.output().contains("(admin database 'admin', task commands through Temporal at")) {
                    assertTrue(proxy.isAlive() && System.nanoTime() < deadline, "proxy did not start:\n" + proxy.output());
                    Thread.sleep(100);
                }
                assertTrue(proxy.output().contains("task commands through Temporal at 127.0.0.1:" + temporalPort),
                        proxy.output());
                try (java.sql.Connection admin = java.sql.DriverManager.getConnection("jdbc:postgresql://127.0.0.1:"
                        + proxyPort + "/admin?preferQueryMode=simple", "admin", "admin-secret");
                     java.sql.Statement st = admin.createStatement()) {
                    String taskId;
                    try (java.sql.ResultSet rs = st.executeQuery("RESHARD src dst 'app_pub' MANUAL_CUTOVER")) {
                        rs.next();
                        taskId = rs.getString(1);
                    }
                    assertTrue(taskId.matches("reshard-src-dst-\\d+"), taskId);
                    String status = awaitStatus(cfg, taskId, "state: WAITING_FOR_CUTOVER");
                    assertTrue(status.contains("publication app_pub, manual cutover"), status);
                    // a stale figure in the registry: SHOW TASKS measures the lag now and writes it back
                    control.execute("UPDATE pgreshard_task SET lag_bytes = 987654321 WHERE task_id = '" + taskId + "'");
                    try (java.sql.ResultSet rs = st.executeQuery("SHOW TASKS")) {
                        assertTrue(rs.next());
                        assertEquals(taskId, rs.getString("id"));
                        assertEquals("WAITING_FOR_CUTOVER", rs.getString("state"));
                        long lag = Long.parseLong(rs.getString("lag_bytes"));
                        assertTrue(lag >= 0 && lag < 987654321, "lag_bytes " + lag);
                    }
                    assertTrue(control.queryLong("SELECT lag_bytes FROM pgreshard_task WHERE task_id = '" + taskId + "'")
                            < 987654321);
                    try (java.sql.ResultSet rs = st.executeQuery("STOP_TASK " + taskId)) {
                        rs.next();
                        assertEquals("STOPPED", rs.getString("phase"));
                    }
                }
                assertEquals(0, src.queryLong("SELECT count(*) FROM pg_replication_slots WHERE database = current_database()"));
            } finally {
                stubs.shutdownNow();
            }
        }
    }

    /** The worker's meters, scraped over HTTP as `pgreshard worker --metrics-port` serves them. */
    private static void assertWorkerMetrics(TestDatabase src, String taskId) throws Exception {
        try (MetricsServer server = MetricsServer.start("127.0.0.1", 0)) {
            String task = "task=\"" + taskId + "\"";
            String copied = scrape(server);
            assertEquals(2000, sample(copied, "pgreshard_copy_rows_total", task, "table=\"public.accounts\""), copied);
            assertTrue(sample(copied, "pgreshard_copy_bytes_total", task, "table=\"public.accounts\"") > 0, copied);
            assertTrue(sample(copied, "pgreshard_replication_lag_bytes", task, "direction=\"forward\"") >= 0, copied);
            assertTrue(sample(copied, "pgreshard_replication_lag_seconds", task, "direction=\"forward\"") >= 0, copied);
            double before = sample(copied, "pgreshard_replication_changes_total", task, "direction=\"forward\"");
            src.execute("UPDATE accounts SET balance = balance + 1 WHERE id <= 50");
            long deadline = System.nanoTime() + java.time.Duration.ofSeconds(30).toNanos();
            String after = copied;
            while (sample(after, "pgreshard_replication_changes_total", task, "direction=\"forward\"") < before + 50) {
                assertTrue(System.nanoTime() < deadline, "replication changes never counted:\n" + after);
                Thread.sleep(200);
                after = scrape(server);
            }
        }
    }

    private static String scrape(MetricsServer server) throws Exception {
        java.net.http.HttpResponse<String> r = java.net.http.HttpClient.newHttpClient().send(java.net.http.HttpRequest
                .newBuilder(java.net.URI.create("http://127.0.0.1:" + server.port() + "/metrics")).build(),
                java.net.http.HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode());
        return r.body();
    }

    /** The value of the sample of {@code name} whose labels contain every one of {@code labels}; -1 when absent. */
    private static double sample(String scrape, String name, String... labels) {
        return scrape.lines().filter(l -> l.startsWith(name + "{") && List.of(labels).stream().allMatch(l::contains))
                .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1))).findFirst().orElse(-1);
    }

    private static Path writeConfig(Path dir, int temporalPort, TestDatabase control, TestDatabase src, TestDatabase d0,
                                    TestDatabase d1, String extra) throws Exception {
        Path cfg = dir.resolve("pgreshard.toml");
        Files.writeString(cfg, "[temporal]\ntarget = \"127.0.0.1:" + temporalPort + "\"\n"
                + "[control]\nurl = \"" + control.jdbcUrl() + "\"\nuser = \"postgres\"\npassword = \"postgres\"\n"
                + src.databasesEntry("src", 0) + d0.databasesEntry("dst", 0) + d1.databasesEntry("dst", 1) + extra);
        Files.writeString(dir.resolve("users.toml"), src.usersEntry("src") + d0.usersEntry("dst"));
        return cfg;
    }

    /** Polls `pgreshard status` until its output contains {@code expected}; returns that output. */
    private static String awaitStatus(Path cfg, String taskId, String expected) throws InterruptedException {
        long deadline = System.nanoTime() + java.time.Duration.ofSeconds(90).toNanos();
        String last = "";
        while (System.nanoTime() < deadline) {
            Result r = run("status", "--config", cfg.toString(), taskId);
            last = r.out() + r.err();
            if (last.contains(expected)) {
                return r.out();
            }
            Thread.sleep(500);
        }
        throw new AssertionError("status of " + taskId + " never showed '" + expected + "'; last:\n" + last);
    }

    @Test
    void badTaskInputIsExplained(TestDatabase control, TestDatabase src, @TempDir Path dir) throws Exception {
        int temporalPort = FreePorts.next();
        Path cfg = dir.resolve("pgreshard.toml");
        Files.writeString(cfg, "[temporal]\ntarget = \"127.0.0.1:" + temporalPort + "\"\n"
                + "[control]\nurl = \"" + control.jdbcUrl() + "\"\nuser = \"postgres\"\npassword = \"postgres\"\n"
                + src.databasesEntry("src", 0));
        // names the unknown database, though no Temporal server (nor worker) is up
        Result noSuchDb = run("reshard", "--config", cfg.toString(), "src", "nosuchdb", "pub");
        assertEquals(2, noSuchDb.exit(), noSuchDb.err());
        assertTrue(noSuchDb.err().startsWith("pgreshard: unknown database 'nosuchdb'"), noSuchDb.err());
        for (String command : List.of("temporal", "worker", "run", "proxy", "reshard", "stop")) {
            Result help = run(command, "--help");
            assertEquals(0, help.exit(), command + ": " + help.err());
            assertTrue(help.out().startsWith("Usage: pgreshard " + command), help.out());
        }
        Result noTemporal = run("tasks", "--config", cfg.toString());
        assertEquals(1, noTemporal.exit());
        assertTrue(noTemporal.err().startsWith("pgreshard: cannot reach Temporal at 127.0.0.1:" + temporalPort),
                noTemporal.err());

        try (EmbeddedTemporal temporal = EmbeddedTemporal.start(temporalPort)) {
            // it listens where it says, 127.0.0.1, not on this machine's other addresses
            for (java.net.InetAddress other : nonLoopbackAddresses()) {
                try (java.net.Socket socket = new java.net.Socket()) {
                    assertThrows(java.io.IOException.class,
                            () -> socket.connect(new java.net.InetSocketAddress(other, temporalPort), 2000),
                            "the development server must not answer on " + other);
                }
            }
            Result unknownDb = run("reshard", "--config", cfg.toString(), "src", "nope", "pub");
            assertEquals(2, unknownDb.exit());
            assertTrue(unknownDb.err().contains("unknown database 'nope'"), unknownDb.err());
            Result unknownTask = run("status", "--config", cfg.toString(), "reshard-x-y-99");
            assertEquals(2, unknownTask.exit());
            assertTrue(unknownTask.err().contains("unknown task 'reshard-x-y-99'; `pgreshard tasks` lists the tasks"),
                    unknownTask.err());
            Result same = run("reshard", "--config", cfg.toString(), "src", "src", "pub");
            assertEquals(2, same.exit());
            assertTrue(same.err().contains("source and destination are both 'src'"), same.err());
        }
    }

    private static List<java.net.InetAddress> nonLoopbackAddresses() throws java.net.SocketException {
        List<java.net.InetAddress> out = new java.util.ArrayList<>();
        for (java.net.NetworkInterface n : java.util.Collections.list(java.net.NetworkInterface.getNetworkInterfaces())) {
            if (n.isUp() && !n.isLoopback()) {
                java.util.Collections.list(n.getInetAddresses()).stream()
                        .filter(a -> a instanceof java.net.Inet4Address).forEach(out::add);
            }
        }
        return out;
    }
}
