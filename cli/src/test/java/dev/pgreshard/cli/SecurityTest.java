package dev.pgreshard.cli;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.ThrowableProxyUtil;
import ch.qos.logback.core.AppenderBase;
import dev.pgreshard.cli.ShardCommandTest.Result;
import dev.pgreshard.cli.task.TaskService;
import dev.pgreshard.cli.task.WorkflowTaskCommands;
import dev.pgreshard.cli.temporal.EmbeddedTemporal;
import dev.pgreshard.cli.worker.WorkerHost;
import dev.pgreshard.core.config.ConfigLoader;
import dev.pgreshard.core.config.PgReshardConfig;
import dev.pgreshard.proxy.ProxyOptions;
import dev.pgreshard.proxy.ProxyServer;
import dev.pgreshard.testkit.FreePorts;
import dev.pgreshard.testkit.PostgresExtension;
import dev.pgreshard.testkit.TestDatabase;
import io.temporal.api.workflowservice.v1.DescribeWorkflowExecutionRequest;
import io.temporal.api.common.v1.WorkflowExecution;
import io.temporal.client.WorkflowClient;
import io.temporal.serviceclient.WorkflowServiceStubs;
import io.temporal.serviceclient.WorkflowServiceStubsOptions;
import io.temporal.worker.WorkerFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.Properties;

import static dev.pgreshard.cli.ShardCommandTest.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Secrets stay secret through a real reshard (worker, proxy with the admin database, Temporal,
 * control store): every password is distinctive, and the workflow history, the pending
 * activities' heartbeat details, every log line (DEBUG for pgreshard, with stack traces), every
 * error and every operator output (status, tasks, SHOW CONFIG, SHOW TASKS) are scanned for them.
 * Also: the admin database and the control API refuse missing or wrong credentials, and the
 * control API listens on loopback only by default. (TLS for clients: proxy CommandLineClientsTest.)
 */
@ExtendWith(PostgresExtension.class)
class SecurityTest {
    private static final String RUN = Long.toString(System.nanoTime() % 1_000_000);
    private static final String CONTROL_SECRET = "ctl-Zq8#secret-" + RUN;
    private static final String SERVER_SECRET = "srv-Kx3$secret-" + RUN;
    private static final String APP_SECRET = "app-Wm5%secret-" + RUN;
    private static final String ADMIN_SECRET = "adm-Pv9&secret-" + RUN;
    private static final List<String> SECRETS = List.of(CONTROL_SECRET, SERVER_SECRET, APP_SECRET, ADMIN_SECRET);

    @Test
    void noSecretLeaksAndEveryDoorWantsCredentials(TestDatabase control, TestDatabase src, TestDatabase d0,
                                                   TestDatabase d1, @TempDir Path dir) throws Exception {
        String controlRole = "sec_ctl_" + RUN;
        String serverRole = "sec_srv_" + RUN;
        src.execute("CREATE ROLE " + controlRole + " LOGIN SUPERUSER PASSWORD '" + CONTROL_SECRET + "'",
                "CREATE ROLE " + serverRole + " LOGIN SUPERUSER REPLICATION PASSWORD '" + SERVER_SECRET + "'",
                "CREATE TABLE accounts (id bigint PRIMARY KEY, owner text)",
                "INSERT INTO accounts SELECT g, 'o' || g FROM generate_series(1, 500) g",
                "CREATE PUBLICATION pub FOR TABLE accounts");
        int temporalPort = FreePorts.next();
        int proxyPort = FreePorts.next();
        int controlPort = FreePorts.next();
        Path cfg = dir.resolve("pgreshard.toml");
        Files.writeString(cfg, "[general]\nport = " + proxyPort + "\ncontrol_port = " + controlPort + "\n"
                + "[temporal]\ntarget = \"127.0.0.1:" + temporalPort + "\"\n"
                + "[control]\nurl = \"" + control.jdbcUrl() + "\"\nuser = \"" + controlRole + "\"\npassword = \""
                + CONTROL_SECRET + "\"\n[admin]\nuser = \"admin\"\npassword = \"" + ADMIN_SECRET + "\"\n"
                + src.databasesEntry("src", 0) + d0.databasesEntry("dst", 0) + d1.databasesEntry("dst", 1)
                + "[[sharded_tables]]\ndatabase = \"dst\"\nname = \"accounts\"\ncolumn = \"id\"\ndata_type = \"bigint\"\n");
        Files.writeString(dir.resolve("users.toml"), users("src", serverRole) + users("dst", serverRole));
        PgReshardConfig config = ConfigLoader.load(cfg);

        List<String> scanned = Collections.synchronizedList(new ArrayList<>());
        CapturingAppender logs = CapturingAppender.attach();
        try (EmbeddedTemporal temporal = EmbeddedTemporal.start(temporalPort)) {
            WorkflowServiceStubs stubs = WorkflowServiceStubs.newServiceStubs(
                    WorkflowServiceStubsOptions.newBuilder().setTarget("127.0.0.1:" + temporalPort).build());
            WorkflowClient client = WorkflowClient.newInstance(stubs);
            TaskService tasks = new TaskService(config, client);
            ProxyServer proxy = ProxyServer.start(config, ProxyOptions.DEFAULTS);
            proxy.bindTaskCommands(new WorkflowTaskCommands(config, tasks));
            try (WorkerHost worker = WorkerHost.start(WorkerFactory.newInstance(client), config)) {
                Result started = run("reshard", "--config", cfg.toString(), "src", "dst", "pub", "--manual-cutover");
                assertEquals(0, started.exit(), started.err());
                String taskId = started.out().strip().lines().reduce((a, b) -> b).orElseThrow();
                scanned.add(started.out() + started.err());

                // the application writes through the proxy while the task replicates
                try (Connection app = connect(proxyPort, "src", "app", APP_SECRET); Statement s = app.createStatement()) {
                    for (int i = 0; i < 50; i++) {
                        s.execute("INSERT INTO accounts VALUES (" + (1000 + i) + ", 'new')");
                    }
                }
                long deadline = System.nanoTime() + 90_000_000_000L;
                Result status;
                do {
                    Thread.sleep(500);
                    status = run("status", "--config", cfg.toString(), taskId);
                    // heartbeat details of the running activities (copy progress, replication position)
                    scanned.add(stubs.blockingStub().describeWorkflowExecution(DescribeWorkflowExecutionRequest.newBuilder()
                            .setNamespace("default").setExecution(WorkflowExecution.newBuilder().setWorkflowId(taskId))
                            .build()).toString());
                } while (!status.out().contains("WAITING_FOR_CUTOVER") && System.nanoTime() < deadline);
                assertTrue(status.out().contains("WAITING_FOR_CUTOVER"), status.out() + status.err());
                scanned.add(status.out() + status.err());
                scanned.add(run("tasks", "--config", cfg.toString()).out());

                try (Connection admin = connect(proxyPort, "admin", "admin", ADMIN_SECRET); Statement s = admin.createStatement()) {
                    scanned.add(AdminRows.of(s, "SHOW CONFIG").toString());
                    scanned.add(AdminRows.of(s, "SHOW TASKS").toString());
                    scanned.add(AdminRows.of(s, "SHOW DATABASES").toString());
                    scanned.add(AdminRows.of(s, "SHOW REPLICATION").toString());
                    scanned.add(AdminRows.of(s, "STOP_TASK " + taskId).toString());
                }
                scanned.add(client.fetchHistory(taskId).toJson(true));
                assertEquals(0, src.queryLong("SELECT count(*) FROM pg_replication_slots WHERE database = current_database()"));

                // errors on every door: wrong passwords, a bad control password, an unreachable shard
                scanned.add(assertThrows(SQLException.class, () -> connect(proxyPort, "src", "app", "wrong-" + APP_SECRET))
                        .getMessage());
                SQLException noAdmin = assertThrows(SQLException.class, () -> connect(proxyPort, "admin", "admin", "nope"));
                assertEquals("28P01", noAdmin.getSQLState());
                SQLException appAsAdmin = assertThrows(SQLException.class, () -> connect(proxyPort, "admin", "app", APP_SECRET));
                assertEquals("28P01", appAsAdmin.getSQLState());
                Path badCfg = dir.resolve("bad.toml");
                Files.writeString(badCfg, Files.readString(cfg).replace(control.jdbcUrl(), "jdbc:postgresql://127.0.0.1:1/" + control.name())
                        .replace("port = " + d1.server().port() + "\ndatabase_name = \"" + d1.name(), "port = 1\ndatabase_name = \"" + d1.name()));
                Result badControl = run("tasks", "--config", badCfg.toString());
                assertNotEquals(0, badControl.exit());
                scanned.add(badControl.err());
                Result unreachable = run("verify", "--config", badCfg.toString(), "src", "dst", "pub");
                assertNotEquals(0, unreachable.exit());
                scanned.add(unreachable.out() + unreachable.err());

                assertControlApiWantsCredentials(controlPort);
            } finally {
                proxy.close();
                tasks.close();
                stubs.shutdownNow();
            }
        } finally {
            logs.detach();
        }
        scanned.addAll(logs.lines());
        assertTrue(logs.lines().size() > 20, "the log capture saw the run: " + logs.lines().size() + " lines");
        // the detector itself works: it finds the four secrets where they are (users.toml: two, pgreshard.toml: two)
        assertEquals(4, leaks(List.of(Files.readString(dir.resolve("users.toml")), Files.readString(cfg))).size());
        List<String> leaks = leaks(scanned);
        assertTrue(leaks.isEmpty(), String.join("\n", leaks));
        assertTrue(String.join("\n", scanned).contains("WAITING_FOR_CUTOVER"), "the scan saw the task's outputs");
    }

    /** Each secret found in each text, with what precedes it. */
    private static List<String> leaks(List<String> texts) {
        List<String> leaks = new ArrayList<>();
        for (String text : texts) {
            for (String secret : SECRETS) {
                if (text.contains(secret)) {
                    int at = text.indexOf(secret);
                    leaks.add("secret " + secret + " in: …" + text.substring(Math.max(0, at - 200), at) + "…");
                }
            }
        }
        return leaks;
    }

    private static void assertControlApiWantsCredentials(int port) throws Exception {
        HttpClient http = HttpClient.newHttpClient();
        URI status = URI.create("http://127.0.0.1:" + port + "/status");
        assertEquals(401, http.send(HttpRequest.newBuilder(status).build(), HttpResponse.BodyHandlers.ofString()).statusCode());
        for (String credentials : List.of("admin:wrong", "app:" + APP_SECRET, "admin:" + ADMIN_SECRET + "x")) {
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(status).header("Authorization", basic(credentials))
                    .build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(401, r.statusCode(), credentials);
        }
        HttpResponse<String> ok = http.send(HttpRequest.newBuilder(status).header("Authorization",
                basic("admin:" + ADMIN_SECRET)).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, ok.statusCode(), ok.body());
        // loopback only by default: the same port on this machine's other addresses does not answer
        Optional<InetAddress> external = NetworkInterface.networkInterfaces().filter(SecurityTest::up)
                .flatMap(NetworkInterface::inetAddresses).filter(a -> a instanceof Inet4Address && !a.isLoopbackAddress())
                .findFirst();
        if (external.isPresent()) {
            try (Socket s = new Socket()) {
                assertThrows(java.io.IOException.class, () -> s.connect(new InetSocketAddress(external.get(), port), 2000),
                        "the control API answers on " + external.get() + "; it must bind to loopback by default");
            }
        }
    }

    private static boolean up(NetworkInterface i) {
        try {
            return i.isUp() && !i.isLoopback();
        } catch (java.net.SocketException e) {
            return false;
        }
    }

    private static String basic(String credentials) {
        return "Basic " + Base64.getEncoder().encodeToString(credentials.getBytes(StandardCharsets.UTF_8));
    }

    private static String users(String cluster, String serverRole) {
        return "[[users]]\nname = \"app\"\ndatabase = \"" + cluster + "\"\npassword = \"" + APP_SECRET
                + "\"\nserver_user = \"" + serverRole + "\"\nserver_password = \"" + SERVER_SECRET + "\"\n";
    }

    private static Connection connect(int port, String database, String user, String password) throws SQLException {
        Properties p = new Properties();
        p.setProperty("user", user);
        p.setProperty("password", password);
        p.setProperty("sslmode", "disable");
        p.setProperty("preferQueryMode", "simple");
        return DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + port + "/" + database, p);
    }

    /** Rows of an admin command as one string per row. */
    private static final class AdminRows {
        static List<String> of(Statement s, String sql) throws SQLException {
            List<String> rows = new ArrayList<>();
            try (var rs = s.executeQuery(sql)) {
                int n = rs.getMetaData().getColumnCount();
                while (rs.next()) {
                    StringBuilder row = new StringBuilder();
                    for (int i = 1; i <= n; i++) {
                        row.append(rs.getString(i)).append('|');
                    }
                    rows.add(row.toString());
                }
            }
            return rows;
        }
    }

    /** Every log event of the JVM (pgreshard at DEBUG), formatted with its stack trace, while attached. */
    private static final class CapturingAppender extends AppenderBase<ILoggingEvent> {
        private final List<String> lines = Collections.synchronizedList(new ArrayList<>());
        private Level previous;

        static CapturingAppender attach() {
            CapturingAppender a = new CapturingAppender();
            Logger root = (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
            a.setContext(root.getLoggerContext());
            a.start();
            root.addAppender(a);
            Logger ours = (Logger) LoggerFactory.getLogger("dev.pgreshard");
            a.previous = ours.getLevel();
            ours.setLevel(Level.DEBUG);
            return a;
        }

        @Override
        protected void append(ILoggingEvent e) {
            String line = e.getLoggerName() + " " + e.getFormattedMessage();
            if (e.getThrowableProxy() != null) {
                line += "\n" + ThrowableProxyUtil.asString(e.getThrowableProxy());
            }
            lines.add(line);
        }

        List<String> lines() {
            return List.copyOf(lines);
        }

        void detach() {
            Logger root = (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
            root.detachAppender(this);
            ((Logger) LoggerFactory.getLogger("dev.pgreshard")).setLevel(previous);
            stop();
        }
    }
}
