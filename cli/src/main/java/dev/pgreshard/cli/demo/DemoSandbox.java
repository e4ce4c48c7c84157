package dev.pgreshard.cli.demo;

import dev.pgreshard.activities.schema.PgDump;
import dev.pgreshard.core.config.PgReshardConfig;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.util.Locale;
import java.util.concurrent.CountDownLatch;

/**
 * {@code pgreshard demo --sandbox}: the demo's four PostgreSQL servers and sample data, with a
 * config for them, left running so that an operator can run pgreshard's processes by hand — each
 * in its own terminal, against a standalone Temporal server — and kill them to see a task resume
 * (the "fault drill" of the README). Runs until interrupted; then stops the servers and deletes
 * everything.
 */
final class DemoSandbox {
    /** pgbench script of the drill's live writes: one order of a random tenant per transaction. */
    private static final String WRITES_SQL = """
            \\set tenant random(1, %d)
            INSERT INTO orders (tenant_id, amount_cents, note) VALUES (:tenant, 100, 'written during the drill');
            """.formatted(DemoData.TENANTS);

    private final DemoEnvironment env;
    private final PrintWriter out;

    DemoSandbox(DemoEnvironment env, PrintWriter out) {
        this.env = env;
        this.out = out;
    }

    /** Starts, prints the drill, and waits until the JVM is interrupted (Ctrl-C), which closes {@code env}. */
    void runUntilInterrupted(long orders, int temporalPort) throws Exception {
        out.println("pgreshard demo --sandbox: starting 4 PostgreSQL servers (embedded) in " + env.dir());
        out.flush();
        DemoServers servers = env.startServers();
        PgReshardConfig config = env.writeConfig("target = \"127.0.0.1:" + temporalPort + "\"");
        int major;
        try (Connection c = servers.server("source").connect("app")) {
            DemoData.loadSource(c, orders);
            major = c.getMetaData().getDatabaseMajorVersion();
        }
        Path writes = env.dir().resolve("writes.sql");
        Files.writeString(writes, WRITES_SQL);
        printDrill(config, major, writes, temporalPort);
        CountDownLatch forever = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            env.close();
            forever.countDown();
        }, "pgreshard-sandbox-stop"));
        forever.await();
    }

    private void printDrill(PgReshardConfig config, int major, Path writes, int temporalPort) {
        String cfg = env.dir().resolve("pgreshard.toml").toString();
        int port = config.general().port();
        out.printf(Locale.ROOT, """

                sandbox ready: source 'src' (1 shard: %,d tenants, orders, plans, live_writes; publication %s), \
                destination 'dst' (2 shards, empty), a control store. Ctrl-C here stops the servers and deletes %s.

                A fault drill: each command in its own terminal, in the repository's directory, after
                  C=%s
                  ./pgreshard temporal --port %d             # Temporal alone: a worker may die, its tasks survive
                  ./pgreshard worker --config $C             # kill -9 it at any time, then start it again
                  ./pgreshard proxy --config $C              # the application's way in: 127.0.0.1:%d
                  PGPASSWORD=%s pgbench -n -c 4 -R 200 -T 900 -f %s -h 127.0.0.1 -p %d -U %s src
                                                             # live writes through the proxy, 200 per second
                  ./pgreshard reshard src dst %s --config $C # prints TASK; the cutover is automatic
                  ./pgreshard status TASK --config $C        # phase, copy, lag, cutover attempts
                Kill the worker (or the proxy, or restart a server) in COPY, REPLICATING or REVERSE_REPLICATING and
                start it again: the task goes on. Once the phase is REVERSE_REPLICATING, stop pgbench, then:
                  ./pgreshard verify src dst %s --config $C  # the same rows on both sides, each on its shard
                  ./pgreshard finalize TASK --config $C      # or: ./pgreshard rollback TASK --config $C
                  psql -h 127.0.0.1 -p %d -U admin admin     # SHOW TASKS, SHOW CLIENTS (password %s)
                """, DemoData.TENANTS, DemoData.PUBLICATION, env.dir(), cfg, temporalPort, port, env.appPassword(),
                writes, port, DemoEnvironment.APP_USER, DemoData.PUBLICATION, DemoData.PUBLICATION, port,
                env.adminPassword());
        try {
            PgDump.locate(config.general().pgDumpPath(), major);
        } catch (RuntimeException e) {
            out.println("warning: " + e.getMessage() + " — a worker started by hand needs pg_dump " + major
                    + " or newer for schema sync");
        }
        out.flush();
    }
}
