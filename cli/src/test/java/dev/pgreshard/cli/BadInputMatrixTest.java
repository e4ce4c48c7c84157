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

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;

import static dev.pgreshard.cli.ShardCommandTest.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The CLI and admin-database rows of the bad-input matrix (README "Bad input"): each refused with
 * a message naming the thing and the fix, the process stays up (the admin session keeps working),
 * and nothing is half done — no task row, no replication slot, no publication, no dropped table.
 * The admin database is served as by {@code pgreshard run}: a proxy bound to the workflow client.
 */
@ExtendWith(PostgresExtension.class)
class BadInputMatrixTest {
    private static final String DROP = "; DROP TABLE accounts; --";

    /** One row of the matrix: what was sent, what the answer must contain, and (admin) its SQLSTATE. */
    record Case(String input, String sqlState, String expected) {
    }

    @Test
    void adminCommandsAndCliArgumentsAreRefusedClearlyAndLeaveNothingBehind(TestDatabase control, TestDatabase src,
                                                                             TestDatabase d0, TestDatabase d1,
                                                                             @TempDir Path dir) throws Exception {
        src.execute("CREATE TABLE accounts (id bigint PRIMARY KEY, name text)",
                "INSERT INTO accounts SELECT g, 'n' || g FROM generate_series(1, 100) g",
                "CREATE PUBLICATION pub FOR TABLE accounts");
        int temporalPort = FreePorts.next();
        int proxyPort = FreePorts.next();
        Path cfg = dir.resolve("pgreshard.toml");
        Files.writeString(cfg, "[general]\nport = " + proxyPort + "\ncontrol_port = " + FreePorts.next() + "\n"
                + "[temporal]\ntarget = \"127.0.0.1:" + temporalPort + "\"\n"
                + "[control]\nurl = \"" + control.jdbcUrl() + "\"\nuser = \"postgres\"\npassword = \"postgres\"\n"
                + "[admin]\nuser = \"admin\"\npassword = \"admin-pw\"\n"
                + src.databasesEntry("src", 0) + d0.databasesEntry("dst", 0) + d1.databasesEntry("dst", 1)
                + "[[sharded_tables]]\ndatabase = \"dst\"\nname = \"accounts\"\ncolumn = \"id\"\ndata_type = \"bigint\"\n");
        Files.writeString(dir.resolve("users.toml"), src.usersEntry("src") + d0.usersEntry("dst"));
        PgReshardConfig config = ConfigLoader.load(cfg);

        List<Case> adminCases = List.of(
                new Case("FROBNICATE", "42601", "unknown admin command 'FROBNICATE'; the admin database knows: PAUSE"),
                new Case("RESHARD src dst", "42601", "RESHARD source destination publication"),
                new Case("RESHARD src nope pub", "22023", "unknown database 'nope'"),
                new Case("RESHARD src src pub", "22023", "source and destination are both 'src'"),
                new Case("RESHARD src dst nopub", "22023", "publication 'nopub' does not exist on source src shard 0"),
                new Case("RESHARD src \"dst" + DROP + "\" pub", "22023", "unknown database 'dst" + DROP + "'"),
                new Case("RESHARD src dst \"pub'" + DROP + "\"", "22023", "publication 'pub'" + DROP + "' does not exist"),
                new Case("COPY_DATA src dst pub", "55000", "run `pgreshard data-sync src dst pub --sync-only`"),
                new Case("STOP_TASK reshard-src-dst-999", "22023", "unknown task 'reshard-src-dst-999'; `pgreshard tasks`"),
                new Case("ROLLBACK reshard-x-y-1", "22023", "unknown task 'reshard-x-y-1'"),
                new Case("CUTOVER", "22023", "CUTOVER without a task id needs exactly one task in WAITING_FOR_CUTOVER; "
                        + "there is none. Name the task"),
                new Case("SCHEMA_SYNC middle src dst pub", "22023", "SCHEMA_SYNC phase must be pre or post, got 'middle'"),
                new Case("SHOW TASKS please", "42601", "SHOW TASKS takes no arguments"),
                new Case("PAUSE nodb", "3D000", "nodb"));

        try (EmbeddedTemporal temporal = EmbeddedTemporal.start(temporalPort)) {
            WorkflowServiceStubs stubs = WorkflowServiceStubs.newServiceStubs(
                    WorkflowServiceStubsOptions.newBuilder().setTarget("127.0.0.1:" + temporalPort).build());
            TaskService tasks = new TaskService(config, WorkflowClient.newInstance(stubs));
            ProxyServer proxy = ProxyServer.start(config, ProxyOptions.DEFAULTS);
            try (Connection admin = adminConnection(proxyPort, "admin-pw"); Statement s = admin.createStatement()) {
                proxy.bindTaskCommands(new WorkflowTaskCommands(config, tasks));
                List<String> wrong = new ArrayList<>();
                for (Case c : adminCases) {
                    try {
                        s.execute(c.input());
                        wrong.add(c.input() + " → accepted");
                    } catch (SQLException e) {
                        if (!c.sqlState().equals(e.getSQLState()) || !e.getMessage().contains(c.expected())) {
                            wrong.add(c.input() + " → " + e.getSQLState() + " " + e.getMessage());
                        }
                    }
                    s.execute("SHOW DATABASES"); // the session is still usable after each error
                }
                assertTrue(wrong.isEmpty(), "admin answers not as documented:\n" + String.join("\n", wrong));
                SQLException badLogin = org.junit.jupiter.api.Assertions.assertThrows(SQLException.class,
                        () -> adminConnection(proxyPort, "wrong").close());
                assertEquals("28P01", badLogin.getSQLState());
            } finally {
                proxy.close();
            }

            String c = cfg.toString();
            List<String> wrong = new ArrayList<>();
            expectCli(wrong, "pgreshard: unknown command 'frobnicate'; the commands are: ", "frobnicate", "--config", c);
            expectCli(wrong, "Missing required parameters: 'DST', 'PUB'", "reshard", "--config", c, "src");
            expectCli(wrong, "Unknown option: '--frobnicate'", "reshard", "--config", c, "--frobnicate", "src", "dst", "pub");
            expectCli(wrong, "no such file", "tasks", "--config", dir.resolve("missing.toml").toString());
            expectCli(wrong, "'12x' is not a valid bigint value for public.accounts.id; fix the value",
                    "shard", "--config", c, "--database", "dst", "--table", "accounts", "12x");
            expectCli(wrong, "'9223372036854775808' is not a valid bigint value",
                    "shard", "--config", c, "--database", "dst", "--table", "accounts", "9223372036854775808");
            expectCli(wrong, "table public.nosuch is not sharded in database 'dst' (sharded tables: [public.accounts])",
                    "shard", "--config", c, "--database", "dst", "--table", "nosuch", "1");
            expectCli(wrong, "publication 'pub'" + DROP + "' does not exist on source src shard 0",
                    "reshard", "--config", c, "src", "dst", "pub'" + DROP);
            expectCli(wrong, "unknown database 'dst\"" + DROP + "'", "reshard", "--config", c, "src", "dst\"" + DROP, "pub");
            expectCli(wrong, "unknown task 'reshard-src-dst-7'", "status", "--config", c, "reshard-src-dst-7");
            expectCli(wrong, "unknown task 'reshard-src-dst-7'", "stop", "--config", c, "reshard-src-dst-7");
            expectCli(wrong, "publication 'pub\"" + DROP + "' does not exist", "verify", "--config", c, "src", "dst",
                    "pub\"" + DROP);
            expectCli(wrong, "--phase", "schema-sync", "--config", c, "--phase", "middle", "src", "dst", "pub");
            assertTrue(wrong.isEmpty(), "CLI answers not as documented:\n" + String.join("\n", wrong));
            stubs.shutdownNow();
            tasks.close();
        }

        // nothing half done: no task registered, no slot, no extra publication, the table intact on the source
        assertEquals(0, control.queryLong("SELECT count(*) FROM pgreshard_task"), "a refused command registered a task");
        assertEquals(0, src.queryLong("SELECT count(*) FROM pg_replication_slots WHERE database = current_database()"));
        assertEquals(List.of(List.of("pub")), src.queryRows("SELECT pubname FROM pg_publication"));
        assertEquals(100, src.queryLong("SELECT count(*) FROM accounts"));
        for (TestDatabase d : List.of(d0, d1)) {
            assertEquals(0, d.queryLong("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"),
                    "a refused command changed destination " + d.name());
        }
    }

    private static void expectCli(List<String> wrong, String expected, String... args) {
        expectCli(wrong, 2, expected, args);
    }

    /** Exit 2 is bad input (1 is a failure of the operation itself, e.g. a verification that finds a mismatch). */
    private static void expectCli(List<String> wrong, int exit, String expected, String... args) {
        Result r = run(args);
        if (r.exit() != exit || !r.err().contains(expected) || r.err().strip().lines().count() != 1) {
            wrong.add(String.join(" ", args) + " → exit " + r.exit() + ": " + r.err().strip() + " (wanted «" + expected + "»)");
        }
    }

    private static Connection adminConnection(int port, String password) throws SQLException {
        Properties p = new Properties();
        p.setProperty("user", "admin");
        p.setProperty("password", password);
        p.setProperty("preferQueryMode", "simple");
        p.setProperty("sslmode", "disable");
        return DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + port + "/admin", p);
    }
}
