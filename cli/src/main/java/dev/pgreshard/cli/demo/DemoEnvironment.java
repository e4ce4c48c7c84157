package dev.pgreshard.cli.demo;

import dev.pgreshard.activities.schema.PgDump;
import dev.pgreshard.activities.support.TaskLogContext;
import dev.pgreshard.cli.task.TaskService;
import dev.pgreshard.cli.task.WorkflowTaskCommands;
import dev.pgreshard.cli.temporal.EmbeddedTemporal;
import dev.pgreshard.cli.worker.WorkerHost;
import dev.pgreshard.core.config.ConfigLoader;
import dev.pgreshard.core.config.PgReshardConfig;
import dev.pgreshard.cli.ProxyHost;
import dev.pgreshard.proxy.ProxyOptions;
import io.temporal.client.WorkflowClient;
import io.temporal.serviceclient.WorkflowServiceStubs;
import io.temporal.serviceclient.WorkflowServiceStubsOptions;
import io.temporal.worker.WorkerFactory;
import io.temporal.worker.WorkerFactoryOptions;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayDeque;
import java.util.Comparator;
import java.util.Deque;
import java.util.HexFormat;
import java.util.stream.Stream;

/**
 * Everything the demo runs, in this JVM, under one temporary directory: four PostgreSQL servers,
 * the embedded Temporal server, a worker, the proxy (with the admin database bound to the task
 * service, as `pgreshard run` does). {@link #close()} stops them in reverse order and deletes the
 * directory, so nothing is left running or on disk.
 */
final class DemoEnvironment implements AutoCloseable {
    static final String APP_USER = "app";
    private final Path dir;
    private final Deque<AutoCloseable> started = new ArrayDeque<>();
    private final String appPassword = randomSecret();
    private final String adminPassword = randomSecret();
    private DemoServers servers;
    private PgReshardConfig config;
    private TaskService tasks;
    private ProxyHost proxy;
    private boolean usesPgDump;

    private DemoEnvironment(Path dir) {
        this.dir = dir;
    }

    static DemoEnvironment create() throws IOException {
        return new DemoEnvironment(Files.createTempDirectory("pgreshard-demo-"));
    }

    Path dir() {
        return dir;
    }

    /** Starts the four servers and creates the databases. */
    DemoServers startServers() throws SQLException {
        servers = DemoServers.start(dir);
        started.push(servers);
        for (String role : new String[] {"source", "shard0", "shard1", "control"}) {
            try (Connection c = servers.server(role).connect("postgres"); Statement s = c.createStatement()) {
                s.execute("CREATE DATABASE " + (role.equals("control") ? "pgreshard" : "app"));
            }
        }
        return servers;
    }

    /** Writes pgreshard.toml and users.toml for the servers and loads them (the same files an operator writes). */
    PgReshardConfig writeConfig() throws IOException {
        return writeConfig("target = \"embedded\"\nembedded_port = " + DemoServers.freePort());
    }

    /** {@link #writeConfig()} with {@code temporal} as the body of the {@code [temporal]} section. */
    PgReshardConfig writeConfig(String temporal) throws IOException {
        String toml = """
                # written by `pgreshard demo` (a temporary directory, deleted when the demo ends)
                [general]
                host = "127.0.0.1"
                port = %d
                control_port = %d

                [temporal]
                %s

                [control]
                url = "jdbc:postgresql://127.0.0.1:%d/pgreshard"
                user = "postgres"
                password = "postgres"

                [admin]
                name = "admin"
                user = "admin"
                password = "%s"

                %s
                %s
                %s
                [[sharded_tables]]
                database = "dst"
                name = "tenants"
                column = "id"
                data_type = "bigint"

                [[sharded_tables]]
                database = "dst"
                name = "orders"
                column = "tenant_id"
                data_type = "bigint"

                [[sharded_tables]]
                database = "dst"
                name = "%s"
                column = "%s"
                data_type = "bigint"
                """.formatted(DemoServers.freePort(), DemoServers.freePort(), temporal,
                servers.server("control").port(), adminPassword, database("src", "source", 0),
                database("dst", "shard0", 0), database("dst", "shard1", 1), DemoData.WRITES.name().name(),
                dev.pgreshard.cli.load.LoadTable.shardKey());
        String users = """
                [[users]]
                name = "%1$s"
                database = "src"
                password = "%2$s"
                server_user = "postgres"
                server_password = "postgres"

                [[users]]
                name = "%1$s"
                database = "dst"
                password = "%2$s"
                server_user = "postgres"
                server_password = "postgres"
                """.formatted(APP_USER, appPassword);
        Files.writeString(dir.resolve("pgreshard.toml"), toml);
        Files.writeString(dir.resolve("users.toml"), users);
        config = ConfigLoader.load(dir.resolve("pgreshard.toml"));
        return config;
    }

    private String database(String cluster, String role, int shard) {
        return """
                [[databases]]
                name = "%s"
                host = "127.0.0.1"
                port = %d
                database_name = "app"
                shard = %d
                """.formatted(cluster, servers.server(role).port(), shard);
    }

    /** Embedded Temporal, a worker (schema sync by pg_dump when one is installed) and the proxy. */
    void startPgReshard(int sourceMajor) {
        EmbeddedTemporal temporal = EmbeddedTemporal.start(config.temporal().embeddedPort());
        started.push(temporal);
        WorkflowServiceStubs stubs = WorkflowServiceStubs.newServiceStubs(
                WorkflowServiceStubsOptions.newBuilder().setTarget(config.temporal().address()).build());
        started.push(stubs::shutdownNow);
        WorkflowClient client = WorkflowClient.newInstance(stubs);
        WorkerFactory factory = WorkerFactory.newInstance(client,
                WorkerFactoryOptions.newBuilder().setWorkerInterceptors(new TaskLogContext()).build());
        usesPgDump = pgDumpAvailable(sourceMajor);
        WorkerHost worker = WorkerHost.start(factory, config, usesPgDump ? null : new DemoSchemaActivities(config));
        started.push(worker);
        tasks = new TaskService(config, client);
        started.push(tasks);
        // registered in the control store (as `run` does), so that the cutover pauses and swaps it
        proxy = ProxyHost.start(config, ProxyOptions.DEFAULTS);
        started.push(proxy);
        proxy.server().bindTaskCommands(new WorkflowTaskCommands(config, tasks));
    }

    private boolean pgDumpAvailable(int sourceMajor) {
        try {
            PgDump.locate(config.general().pgDumpPath(), sourceMajor);
            return true;
        } catch (RuntimeException notInstalledOrTooOld) {
            return false;
        }
    }

    boolean usesPgDump() {
        return usesPgDump;
    }

    PgReshardConfig config() {
        return config;
    }

    DemoServers servers() {
        return servers;
    }

    TaskService tasks() {
        return tasks;
    }

    ProxyHost proxy() {
        return proxy;
    }

    String appPassword() {
        return appPassword;
    }

    String adminPassword() {
        return adminPassword;
    }

    String proxyUrl(String database) {
        return "jdbc:postgresql://127.0.0.1:" + proxy.server().port() + "/" + database;
    }

    private static String randomSecret() {
        byte[] b = new byte[12];
        new SecureRandom().nextBytes(b);
        return HexFormat.of().formatHex(b);
    }

    @Override
    public void close() {
        while (!started.isEmpty()) {
            try {
                started.pop().close();
            } catch (Exception e) {
                // keep going: everything else must still stop
            }
        }
        // a server stopping beside us (zonky's own shutdown hook, on Ctrl-C) may still write a file or two: walk again
        for (int attempt = 0; attempt < 20 && Files.exists(dir); attempt++) {
            try (Stream<Path> files = Files.walk(dir)) {
                files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            } catch (IOException | java.io.UncheckedIOException ignored) {
                // a file vanished under the walk; the next pass sees the rest
            }
            if (Files.exists(dir)) {
                try {
                    Thread.sleep(250);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
        }
    }
}
