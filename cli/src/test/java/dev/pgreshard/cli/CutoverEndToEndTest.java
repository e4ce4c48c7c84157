package dev.pgreshard.cli;

import dev.pgreshard.cli.ShardCommandTest.Result;
import dev.pgreshard.cli.load.LoadTable;
import dev.pgreshard.cli.load.WriteLoad;
import dev.pgreshard.cli.temporal.EmbeddedTemporal;
import dev.pgreshard.cli.worker.WorkerHost;
import dev.pgreshard.core.config.ConfigLoader;
import dev.pgreshard.core.config.PgReshardConfig;
import dev.pgreshard.proxy.ProxyOptions;
import dev.pgreshard.testkit.FreePorts;
import dev.pgreshard.testkit.PostgresExtension;
import dev.pgreshard.testkit.TestDatabase;
import dev.pgreshard.workflows.TaskRef;
import io.temporal.client.WorkflowClient;
import io.temporal.serviceclient.WorkflowServiceStubs;
import io.temporal.serviceclient.WorkflowServiceStubsOptions;
import io.temporal.worker.WorkerFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;

import static dev.pgreshard.cli.ShardCommandTest.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The whole life of a task under a live application (8 clients writing through the proxy, every
 * acknowledged write recorded): RESHARD with automatic cutover, rollback, RESHARD again, finalize.
 * Nothing may fail on the client side, every acknowledged write must be where traffic went, both
 * sides must verify clean, and nothing may be left behind (slots, publications, paused proxies).
 */
@ExtendWith(PostgresExtension.class)
class CutoverEndToEndTest {
    private static final Logger log = LoggerFactory.getLogger(CutoverEndToEndTest.class);
    private static final String SLOTS = "SELECT count(*) FROM pg_replication_slots WHERE database = current_database()";

    @Test
    void reshardRollbackReshardFinalizeUnderLoad(TestDatabase control, TestDatabase src, TestDatabase d0, TestDatabase d1,
                                                 @TempDir Path dir) throws Exception {
        LoadTable events = LoadTable.of("events");
        src.execute(events.ddl(),
                "INSERT INTO events (id, tenant_id, client) SELECT 900000000000 + g, g % 97, -1 FROM generate_series(1, 5000) g",
                "CREATE TABLE orders (id bigserial PRIMARY KEY, customer_id bigint NOT NULL, note text)",
                "ALTER TABLE orders REPLICA IDENTITY FULL",
                "INSERT INTO orders (customer_id, note) SELECT g % 13, 'n' || g FROM generate_series(1, 100) g",
                "CREATE TABLE plans (code text PRIMARY KEY, price int)",
                "INSERT INTO plans VALUES ('free', 0), ('pro', 20)",
                "CREATE PUBLICATION pub FOR TABLE events, orders, plans");
        int temporalPort = FreePorts.next();
        int proxyPort = FreePorts.next();
        Path cfg = writeConfig(dir, temporalPort, proxyPort, control, src, d0, d1);
        PgReshardConfig config = ConfigLoader.load(cfg);
        String c = "--config=" + cfg;

        try (EmbeddedTemporal temporal = EmbeddedTemporal.start(temporalPort)) {
            WorkflowServiceStubs stubs = WorkflowServiceStubs.newServiceStubs(
                    WorkflowServiceStubsOptions.newBuilder().setTarget("127.0.0.1:" + temporalPort).build());
            try (WorkerHost worker = WorkerHost.start(WorkerFactory.newInstance(WorkflowClient.newInstance(stubs)), config);
                 ProxyHost proxy = ProxyHost.start(config, ProxyOptions.DEFAULTS)) {
                String proxyUrl = "jdbc:postgresql://127.0.0.1:" + proxyPort + "/src";
                WriteLoad load = WriteLoad.start(new WriteLoad.Settings(proxyUrl, "postgres", "postgres", events, 8, 2));

                // 1. RESHARD with automatic cutover
                String first = start(c);
                String status = awaitStatus(c, first, "phase: REVERSE_REPLICATING");
                log.info("after the first cutover:\n{}", status);
                assertTrue(status.lines().anyMatch(l -> l.contains("CUTOVER") && l.contains("  swapped")), status);
                Thread.sleep(1500);
                long newOrderId = insertOrderThroughProxy(proxyUrl);
                assertTrue(newOrderId > 100, "the destination's sequence continues past the source's: got id " + newOrderId);
                assertEquals(1, d0.queryLong("SELECT count(*) FROM orders WHERE id = " + newOrderId)
                        + d1.queryLong("SELECT count(*) FROM orders WHERE id = " + newOrderId), "new order is on the destination");

                // 2. rollback: traffic back on the source, which has everything written meanwhile
                assertEquals(0, run("rollback", c, first).exit());
                status = awaitStatus(c, first, "phase: DONE");
                assertTrue(status.contains("ROLLED_BACK"), status);
                assertEquals(1, src.queryLong("SELECT count(*) FROM orders WHERE id = " + newOrderId), "reverse replication carried it back");
                assertNothingLeft(src, d0, d1);
                Thread.sleep(1500);

                // 3. RESHARD again (the destination is emptied first, as the runbook says) and finalize
                for (TestDatabase d : List.of(d0, d1)) {
                    d.execute("TRUNCATE events, orders, plans");
                }
                String second = start(c);
                status = awaitStatus(c, second, "phase: REVERSE_REPLICATING");
                log.info("after the second cutover:\n{}", status);
                Thread.sleep(1500);
                WriteLoad.Result result = load.stop();
                log.info("write load: {} committed, {} failed, {}", result.committed(), result.failed(), result.latency());

                assertEquals(0, result.failed(), "client transactions failed: " + result.firstFailures());
                assertTrue(result.committed() > 100, "the load wrote: " + result.committed());
                try (Connection s0 = DriverManager.getConnection(d0.jdbcUrl(), "postgres", "postgres");
                     Connection s1 = DriverManager.getConnection(d1.jdbcUrl(), "postgres", "postgres");
                     Connection s = DriverManager.getConnection(src.jdbcUrl(), "postgres", "postgres")) {
                    assertEquals(List.of(), result.writes().missingIn(List.of(s0, s1)), "acknowledged writes on the destination");
                    awaitNothingMissing(result, s); // reverse replication keeps the source complete
                }
                Result forward = run("verify", c, "src", "dst", "pub");
                assertEquals(0, forward.exit(), forward.out() + forward.err());
                String reversePublication = new TaskRef(second, "src", "dst", "pub").reversePublication();
                Result backward = run("verify", c, "dst", "src", reversePublication);
                assertEquals(0, backward.exit(), backward.out() + backward.err());

                assertEquals(0, run("finalize", c, second).exit());
                status = awaitStatus(c, second, "phase: DONE");
                assertTrue(status.contains("FINALIZED"), status);
                assertNothingLeft(src, d0, d1);
                log.info("commit latency over the whole run (the longest is the longest client-visible stall): {}",
                        result.latency());
            } finally {
                stubs.shutdownNow();
            }
        }
    }

    private static String start(String c) {
        Result started = run("reshard", c, "src", "dst", "pub");
        assertEquals(0, started.exit(), started.err());
        List<String> lines = started.out().lines().toList();
        return lines.get(lines.size() - 1);
    }

    private static long insertOrderThroughProxy(String url) throws Exception {
        try (Connection c = DriverManager.getConnection(url, "postgres", "postgres");
             Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("INSERT INTO orders (customer_id, note) VALUES (5, 'after cutover') RETURNING id")) {
            rs.next();
            return rs.getLong(1);
        }
    }

    private static void awaitNothingMissing(WriteLoad.Result result, Connection source) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        List<String> missing = result.writes().missingIn(List.of(source));
        while (!missing.isEmpty() && System.nanoTime() < deadline) {
            Thread.sleep(500);
            missing = result.writes().missingIn(List.of(source));
        }
        assertEquals(List.of(), missing, "acknowledged writes on the source (reverse replication)");
    }

    private static void assertNothingLeft(TestDatabase... dbs) {
        for (TestDatabase db : dbs) {
            assertEquals(0, db.queryLong(SLOTS), "replication slots left on " + db.jdbcUrl());
            assertEquals(0, db.queryLong("SELECT count(*) FROM pg_publication WHERE pubname LIKE 'pgreshard%'"),
                    "publications left on " + db.jdbcUrl());
        }
    }

    private static Path writeConfig(Path dir, int temporalPort, int proxyPort, TestDatabase control, TestDatabase src,
                                    TestDatabase d0, TestDatabase d1) throws Exception {
        Path cfg = dir.resolve("pgreshard.toml");
        Files.writeString(cfg, "[general]\nhost = \"127.0.0.1\"\nport = " + proxyPort + "\ncontrol_port = " + FreePorts.next()
                + "\ncutover_pause_budget_ms = 1000\n"
                + "[temporal]\ntarget = \"127.0.0.1:" + temporalPort + "\"\n"
                + "[control]\nurl = \"" + control.jdbcUrl() + "\"\nuser = \"postgres\"\npassword = \"postgres\"\n"
                + "[admin]\nname = \"admin\"\nuser = \"admin\"\npassword = \"admin-secret\"\n"
                + src.databasesEntry("src", 0) + d0.databasesEntry("dst", 0) + d1.databasesEntry("dst", 1)
                + "[[sharded_tables]]\ndatabase = \"dst\"\nname = \"events\"\ncolumn = \"tenant_id\"\ndata_type = \"bigint\"\n"
                + "[[sharded_tables]]\ndatabase = \"dst\"\nname = \"orders\"\ncolumn = \"customer_id\"\ndata_type = \"bigint\"\n");
        Files.writeString(dir.resolve("users.toml"), src.usersEntry("src") + d0.usersEntry("dst"));
        return cfg;
    }

    /** Polls `pgreshard status` until its output contains {@code expected}. */
    private static String awaitStatus(String c, String taskId, String expected) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(120).toNanos();
        String last = "";
        while (System.nanoTime() < deadline) {
            Result r = run("status", c, taskId);
            last = r.out() + r.err();
            if (last.contains(expected)) {
                return r.out();
            }
            if (last.contains("phase: FAILED")) {
                break;
            }
            Thread.sleep(300);
        }
        throw new AssertionError("status of " + taskId + " never showed '" + expected + "'; last:\n" + last);
    }
}
