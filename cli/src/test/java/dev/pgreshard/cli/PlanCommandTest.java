package dev.pgreshard.cli;

import dev.pgreshard.cli.ShardCommandTest.Result;
import dev.pgreshard.cli.task.TaskService;
import dev.pgreshard.cli.task.WorkflowTaskCommands;
import dev.pgreshard.cli.temporal.EmbeddedTemporal;
import dev.pgreshard.core.config.ConfigLoader;
import dev.pgreshard.core.config.PgReshardConfig;
import dev.pgreshard.proxy.ProxyOptions;
import dev.pgreshard.proxy.ProxyServer;
import dev.pgreshard.testkit.FreePorts;
import dev.pgreshard.testkit.PostgresExtension;
import dev.pgreshard.testkit.TestDatabase;
import io.temporal.client.WorkflowClient;
import io.temporal.serviceclient.WorkflowServiceStubs;
import io.temporal.serviceclient.WorkflowServiceStubsOptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;

import static dev.pgreshard.cli.ShardCommandTest.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code pgreshard plan}, the refusal of {@code reshard} with the same report, {@code RESHARD … DRY_RUN}
 * in the admin database, and a second proxy started from the same config with {@code --port}.
 */
@ExtendWith(PostgresExtension.class)
class PlanCommandTest {
    private static final String FIX = "fix: CREATE UNIQUE INDEX CONCURRENTLY \"orders_id_customer_id_key\" ON "
            + "\"public\".\"orders\" (\"id\", \"customer_id\"); ALTER TABLE \"public\".\"orders\" REPLICA IDENTITY "
            + "USING INDEX \"orders_id_customer_id_key\";";

    @Test
    void planListsTheBlockerWithItsFixAndReshardRefusesWithTheSameReport(TestDatabase control, TestDatabase src,
                                                                        TestDatabase d0, TestDatabase d1,
                                                                        @TempDir Path dir) throws Exception {
        src.execute("CREATE TABLE orders (id bigserial PRIMARY KEY, customer_id bigint NOT NULL, total numeric)",
                "INSERT INTO orders (customer_id, total) SELECT g % 50, g FROM generate_series(1, 3000) g", "ANALYZE",
                "CREATE PUBLICATION pub FOR TABLE orders");
        int temporalPort = FreePorts.next();
        int proxyPort = FreePorts.next();
        Path cfg = dir.resolve("pgreshard.toml");
        Files.writeString(cfg, "[general]\nport = " + proxyPort + "\ncontrol_port = " + FreePorts.next() + "\n"
                + "[temporal]\ntarget = \"127.0.0.1:" + temporalPort + "\"\n"
                + "[control]\nurl = \"" + control.jdbcUrl() + "\"\nuser = \"postgres\"\npassword = \"postgres\"\n"
                + "[admin]\nuser = \"admin\"\npassword = \"admin-pw\"\n"
                + src.databasesEntry("src", 0) + d0.databasesEntry("dst", 0) + d1.databasesEntry("dst", 1)
                + "[[sharded_tables]]\ndatabase = \"dst\"\nname = \"orders\"\ncolumn = \"customer_id\"\ndata_type = \"bigint\"\n");
        Files.writeString(dir.resolve("users.toml"), src.usersEntry("src") + d0.usersEntry("dst"));
        String c = cfg.toString();

        Result blocked = run("plan", "--config", c, "src", "dst", "pub");
        assertEquals(1, blocked.exit(), blocked.out() + blocked.err());
        assertContains(blocked.out(), "shard-key column public.orders.customer_id is not part of the replica identity [id]");
        assertContains(blocked.out(), FIX);
        assertContains(blocked.out(), "public.orders_id_seq (serial of public.orders.id): at 3000 on the source");
        assertContains(blocked.out(), "RESULT: BLOCKED (1 problem to fix before reshard)");
        assertContains(blocked.err(), "pgreshard: plan found 1 blocking problem(s)");

        PgReshardConfig config = ConfigLoader.load(cfg);
        try (EmbeddedTemporal temporal = EmbeddedTemporal.start(temporalPort)) {
            Result refused = run("reshard", "--config", c, "src", "dst", "pub");
            assertEquals(1, refused.exit(), refused.out() + refused.err());
            assertContains(refused.err(), FIX);
            assertContains(refused.err(), "pgreshard: reshard src dst pub refused: 1 blocking problem (each listed with "
                    + "its fix); nothing was created");

            WorkflowServiceStubs stubs = WorkflowServiceStubs.newServiceStubs(
                    WorkflowServiceStubsOptions.newBuilder().setTarget("127.0.0.1:" + temporalPort).build());
            try (TaskService tasks = new TaskService(config, WorkflowClient.newInstance(stubs))) {
                ProxyServer proxy = ProxyServer.start(config, ProxyOptions.DEFAULTS);
                try (Connection admin = admin(proxyPort); Statement s = admin.createStatement()) {
                    proxy.bindTaskCommands(new WorkflowTaskCommands(config, tasks));
                    List<List<String>> rows = rows(s, "RESHARD src dst pub DRY_RUN");
                    assertEquals(List.of("result", "BLOCKED", "1 blocking problem(s)"), rows.get(rows.size() - 1));
                    assertTrue(rows.stream().anyMatch(r -> r.get(0).equals("blocker") && FIX.endsWith(r.get(2))), rows.toString());
                    assertTrue(rows.stream().anyMatch(r -> r.get(0).equals("copy estimate") && r.get(2).startsWith("about ")),
                            rows.toString());
                    SQLException e = assertThrows(SQLException.class, () -> s.execute("RESHARD src dst pub"));
                    assertEquals("55000", e.getSQLState());
                    assertContains(e.getMessage(), "refused: 1 blocking problem");
                    assertContains(e.getMessage(), FIX);
                } finally {
                    proxy.close();
                    stubs.shutdownNow();
                }
            }
        }
        assertEquals(0, control.queryLong("SELECT count(*) FROM pgreshard_task"), "a refused reshard registered a task");
        assertEquals(0, src.queryLong("SELECT count(*) FROM pg_replication_slots WHERE database = current_database()"));

        // the fix, exactly as printed (statement by statement: CONCURRENTLY may not share a query string)
        for (String statement : FIX.substring("fix: ".length()).split("(?<=;) ")) {
            src.execute(statement);
        }
        Result ok = run("plan", "--config", c, "src", "dst", "pub");
        assertEquals(0, ok.exit(), ok.out() + ok.err());
        assertContains(ok.out(), "index orders_id_customer_id_key [id, customer_id]");
        assertContains(ok.out(), "Estimated copy time:\n  about ");
        assertContains(ok.out(), "RESULT: OK");
        assertEquals(0, d0.queryLong("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"), "plan created nothing");
    }

    /** Two proxies from one config file: the second takes its ports from --port and --control-port. */
    @Test
    void aSecondProxyRunsFromTheSameConfigWithPortOverrides(TestDatabase control, TestDatabase src, @TempDir Path dir)
            throws Exception {
        src.execute("CREATE TABLE t (id int PRIMARY KEY)", "INSERT INTO t VALUES (1), (2)");
        int port = FreePorts.next();
        Path cfg = dir.resolve("pgreshard.toml");
        Files.writeString(cfg, "[general]\nport = " + port + "\ncontrol_port = " + FreePorts.next() + "\n"
                + "[control]\nurl = \"" + control.jdbcUrl() + "\"\nuser = \"postgres\"\npassword = \"postgres\"\n"
                + "[admin]\nuser = \"admin\"\npassword = \"admin-pw\"\n" + src.databasesEntry("src", 0));
        Files.writeString(dir.resolve("users.toml"), "[[users]]\nname = \"app\"\ndatabase = \"src\"\npassword = \"app-pw\"\n"
                + "server_user = \"" + src.server().superuser() + "\"\nserver_password = \"" + src.server().password() + "\"\n");
        int secondPort = FreePorts.next();
        int secondControl = FreePorts.next();

        ProxyCommand second = new ProxyCommand();
        new CommandLine(second).parseArgs("--config", cfg.toString(), "--port", String.valueOf(secondPort),
                "--control-port", String.valueOf(secondControl));
        PgReshardConfig secondConfig = second.address.apply(second.config.load());
        assertEquals(secondPort, secondConfig.general().port());
        assertEquals(secondControl, secondConfig.general().controlPort());

        try (ProxyHost first = ProxyHost.start(ConfigLoader.load(cfg), ProxyOptions.DEFAULTS);
             ProxyHost other = ProxyHost.start(secondConfig, ProxyOptions.DEFAULTS)) {
            assertEquals(port, first.server().port());
            assertEquals(secondPort, other.server().port());
            for (int p : List.of(port, secondPort)) {
                try (Connection app = app(p); Statement s = app.createStatement();
                     ResultSet rs = s.executeQuery("SELECT count(*) FROM t")) {
                    rs.next();
                    assertEquals(2, rs.getInt(1), "through the proxy on port " + p);
                }
            }
            assertEquals(2, control.queryLong("SELECT count(*) FROM pgreshard_proxy"), "both proxies take part in cutovers");
            assertTrue(other.controlUrl().endsWith(":" + secondControl), other.controlUrl());
        }

        Result clash = run("proxy", "--config", cfg.toString(), "--control-port", String.valueOf(port));
        assertEquals(2, clash.exit(), clash.err());
        assertContains(clash.err(), "the proxy port and the control port are both " + port);
        Result badPort = run("run", "--config", cfg.toString(), "--port", "70000");
        assertEquals(2, badPort.exit(), badPort.err());
        assertContains(badPort.err(), "--port is 70000; use a TCP port between 1 and 65535");
    }

    private static Connection admin(int port) throws SQLException {
        Properties p = new Properties();
        p.setProperty("user", "admin");
        p.setProperty("password", "admin-pw");
        p.setProperty("preferQueryMode", "simple");
        p.setProperty("sslmode", "disable");
        return DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + port + "/admin", p);
    }

    private static Connection app(int port) throws SQLException {
        Properties p = new Properties();
        p.setProperty("user", "app");
        p.setProperty("password", "app-pw");
        p.setProperty("sslmode", "disable");
        return DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + port + "/src", p);
    }

    private static List<List<String>> rows(Statement s, String sql) throws SQLException {
        List<List<String>> out = new ArrayList<>();
        try (ResultSet rs = s.executeQuery(sql)) {
            int n = rs.getMetaData().getColumnCount();
            while (rs.next()) {
                List<String> row = new ArrayList<>();
                for (int i = 1; i <= n; i++) {
                    row.add(rs.getString(i));
                }
                out.add(row);
            }
        }
        return out;
    }

    private static void assertContains(String text, String expected) {
        assertTrue(text.contains(expected), "expected «" + expected + "» in:\n" + text);
    }
}
