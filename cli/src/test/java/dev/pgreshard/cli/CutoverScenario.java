package dev.pgreshard.cli;

import dev.pgreshard.cli.ShardCommandTest.Result;
import dev.pgreshard.cli.load.AcknowledgedWrites;
import dev.pgreshard.cli.load.LoadTable;
import dev.pgreshard.cli.load.WriteLoad;
import dev.pgreshard.cli.task.StatusPrinter;
import dev.pgreshard.cli.task.TaskService;
import dev.pgreshard.cli.temporal.EmbeddedTemporal;
import dev.pgreshard.cli.worker.WorkerHost;
import dev.pgreshard.core.config.ConfigLoader;
import dev.pgreshard.core.config.PgReshardConfig;
import dev.pgreshard.proxy.ProxyOptions;
import dev.pgreshard.workflows.reshard.ReshardInput;
import dev.pgreshard.workflows.reshard.ReshardWorkflow;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowOptions;
import io.temporal.serviceclient.WorkflowServiceStubs;
import io.temporal.serviceclient.WorkflowServiceStubsOptions;
import io.temporal.worker.WorkerFactory;
import dev.pgreshard.testkit.FreePorts;
import dev.pgreshard.testkit.TestDatabase;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static dev.pgreshard.cli.ShardCommandTest.run;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * What the cutover tests share: a source {@code src} (one shard) holding the write load's table and
 * a publication, a destination {@code dst} of two shards, the config files, and CLI helpers.
 */
final class CutoverScenario {
    static final LoadTable EVENTS = LoadTable.of("events");
    /** Written by the same transactions as EVENTS, with ids the database assigns (a serial and an identity column). */
    static final LoadTable SERIAL_IDS = LoadTable.assigned("serial_ids", LoadTable.Ids.SERIAL);
    static final LoadTable IDENTITY_IDS = LoadTable.assigned("identity_ids", LoadTable.Ids.IDENTITY);
    /** Sharded by its own serial id, inserted without it: the sharded proxy draws the ids (issue 15 D3). */
    static final LoadTable KEYED_IDS = LoadTable.assigned("keyed_ids", LoadTable.Ids.KEYED_BY_ID);
    static final List<LoadTable> ASSIGNED_ID_TABLES = List.of(SERIAL_IDS, IDENTITY_IDS, KEYED_IDS);
    /** Empties the moved tables on a destination shard (a new task needs them empty). */
    static final String TRUNCATE_MOVED = "TRUNCATE events, orders, plans, serial_ids, identity_ids, keyed_ids";
    static final String SLOTS = "SELECT count(*) FROM pg_replication_slots WHERE database = current_database()";

    final Path config;
    final int temporalPort;
    final int proxyPort;
    final TestDatabase src;
    final List<TestDatabase> dst;
    /** Set by {@link #startServices}: status is read through it (a CLI call per poll would start a whole context each time). */
    private TaskService tasks;

    private CutoverScenario(Path config, int temporalPort, int proxyPort, TestDatabase src, List<TestDatabase> dst) {
        this.config = config;
        this.temporalPort = temporalPort;
        this.proxyPort = proxyPort;
        this.src = src;
        this.dst = dst;
    }

    /** Writes pgreshard.toml and users.toml in {@code dir}; {@code generalExtra} goes into [general]. */
    static CutoverScenario create(Path dir, TestDatabase control, TestDatabase src, TestDatabase d0, TestDatabase d1,
                                  String generalExtra) throws Exception {
        int temporalPort = FreePorts.next();
        int proxyPort = FreePorts.next();
        Path cfg = dir.resolve("pgreshard.toml");
        Files.writeString(cfg, "[general]\nhost = \"127.0.0.1\"\nport = " + proxyPort + "\ncontrol_port = " + FreePorts.next()
                + "\n" + generalExtra
                + "[temporal]\ntarget = \"127.0.0.1:" + temporalPort + "\"\n"
                + "[control]\nurl = \"" + control.jdbcUrl() + "\"\nuser = \"postgres\"\npassword = \"postgres\"\n"
                + "[admin]\nname = \"admin\"\nuser = \"admin\"\npassword = \"admin-secret\"\n"
                + src.databasesEntry("src", 0) + d0.databasesEntry("dst", 0) + d1.databasesEntry("dst", 1)
                + "[[sharded_tables]]\ndatabase = \"dst\"\nname = \"events\"\ncolumn = \"tenant_id\"\ndata_type = \"bigint\"\n"
                + "[[sharded_tables]]\ndatabase = \"dst\"\nname = \"orders\"\ncolumn = \"customer_id\"\ndata_type = \"bigint\"\n"
                + "[[sharded_tables]]\ndatabase = \"dst\"\nname = \"serial_ids\"\ncolumn = \"tenant_id\"\ndata_type = \"bigint\"\n"
                + "[[sharded_tables]]\ndatabase = \"dst\"\nname = \"identity_ids\"\ncolumn = \"tenant_id\"\ndata_type = \"bigint\"\n"
                + "[[sharded_tables]]\ndatabase = \"dst\"\nname = \"keyed_ids\"\ncolumn = \"id\"\ndata_type = \"bigint\"\n");
        Files.writeString(dir.resolve("users.toml"), src.usersEntry("src") + d0.usersEntry("dst"));
        return new CutoverScenario(cfg, temporalPort, proxyPort, src, List.of(d0, d1));
    }

    /**
     * The source's tables: the load's (one with client ids, two with database ids), a serial one, an
     * omnisharded one; all in publication {@code pub}.
     */
    void createSourceTables() {
        src.execute(SERIAL_IDS.ddl(), IDENTITY_IDS.ddl(), KEYED_IDS.ddl(),
                "INSERT INTO keyed_ids (tenant_id, client) SELECT g % 97, -1 FROM generate_series(1, 500) g",
                "INSERT INTO serial_ids (tenant_id, client) SELECT g % 97, -1 FROM generate_series(1, 500) g",
                "INSERT INTO identity_ids (tenant_id, client) SELECT g % 97, -1 FROM generate_series(1, 500) g");
        src.execute(EVENTS.ddl(),
                "INSERT INTO events (id, tenant_id, client) SELECT 900000000000 + g, g % 97, -1 FROM generate_series(1, 5000) g",
                "CREATE TABLE orders (id bigserial PRIMARY KEY, customer_id bigint NOT NULL, note text)",
                "ALTER TABLE orders REPLICA IDENTITY FULL",
                "INSERT INTO orders (customer_id, note) SELECT g % 13, 'n' || g FROM generate_series(1, 100) g",
                "CREATE TABLE plans (code text PRIMARY KEY, price int)",
                "INSERT INTO plans VALUES ('free', 0), ('pro', 20)",
                "CREATE PUBLICATION pub FOR TABLE events, orders, plans, serial_ids, identity_ids, keyed_ids");
    }

    String configArg() {
        return "--config=" + config;
    }

    String proxyUrl() {
        return "jdbc:postgresql://127.0.0.1:" + proxyPort + "/src";
    }

    /** 8 clients writing through the proxy; each transaction also inserts into the tables with database ids. */
    WriteLoad startLoad() throws Exception {
        return startLoad(ASSIGNED_ID_TABLES);
    }

    WriteLoad startLoad(List<LoadTable> assignedIdTables) throws Exception {
        return WriteLoad.start(new WriteLoad.Settings(proxyUrl(), "postgres", "postgres", EVENTS, 8, 2, assignedIdTables));
    }

    Result cli(String command, String... args) {
        List<String> all = new ArrayList<>(List.of(command, configArg()));
        all.addAll(List.of(args));
        return run(all.toArray(String[]::new));
    }

    /** Starts a task; returns its id. */
    String reshard(String... flags) {
        List<String> args = new ArrayList<>(List.of("src", "dst", "pub"));
        args.addAll(List.of(flags));
        Result started = cli("reshard", args.toArray(String[]::new));
        assertEquals(0, started.exit(), started.err());
        List<String> lines = started.out().lines().toList();
        return lines.get(lines.size() - 1);
    }

    /** Polls `pgreshard status` until its output contains {@code expected} (fails fast on FAILED). */
    String awaitStatus(String taskId, String expected) throws InterruptedException {
        // generous: on a machine shared by many builds a copy and catch-up under load take minutes
        long deadline = System.nanoTime() + Duration.ofSeconds(300).toNanos();
        String last = "";
        while (System.nanoTime() < deadline) {
            last = status(taskId);
            if (last.contains(expected)) {
                return last;
            }
            if (last.contains("phase: FAILED")) {
                break;
            }
            Thread.sleep(300);
        }
        throw new AssertionError("status of " + taskId + " never showed '" + expected + "'; last:\n" + last);
    }

    /** What `pgreshard status TASK` prints, read through this JVM's workflow client. */
    String status(String taskId) {
        java.io.StringWriter text = new java.io.StringWriter();
        StatusPrinter.print(tasks.status(taskId), new java.io.PrintWriter(text));
        return text.toString();
    }

    /** Polls until the status shows {@code n} cutover/rollback attempts; returns it. */
    String awaitAttempts(String taskId, int n) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(120).toNanos();
        String last = "";
        while (System.nanoTime() < deadline) {
            last = status(taskId);
            long attempts = last.lines().filter(l -> l.matches("  (CUTOVER|ROLLBACK) .*") && !l.contains("in progress"))
                    .count();
            if (attempts >= n) {
                return last;
            }
            Thread.sleep(300);
        }
        throw new AssertionError("status of " + taskId + " never showed " + n + " attempts; last:\n" + last);
    }

    /**
     * The acknowledged writes (of every load table) missing on the destination shards, or present on
     * both (empty = none).
     */
    List<String> missingOnDestination(WriteLoad.Result result) throws Exception {
        return missingOnDestination(result.allWrites());
    }

    List<String> missingOnDestination(List<AcknowledgedWrites> writes) throws Exception {
        try (Connection s0 = DriverManager.getConnection(dst.get(0).jdbcUrl(), "postgres", "postgres");
             Connection s1 = DriverManager.getConnection(dst.get(1).jdbcUrl(), "postgres", "postgres")) {
            return missingIn(writes, List.of(s0, s1));
        }
    }

    /** The acknowledged writes missing on the source, waiting up to a minute for replication to bring them. */
    List<String> awaitNothingMissingOnSource(WriteLoad.Result result) throws Exception {
        return awaitNothingMissingOnSource(result.allWrites());
    }

    List<String> awaitNothingMissingOnSource(List<AcknowledgedWrites> writes) throws Exception {
        try (Connection s = DriverManager.getConnection(src.jdbcUrl(), "postgres", "postgres")) {
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            List<String> missing = missingIn(writes, List.of(s));
            while (!missing.isEmpty() && System.nanoTime() < deadline) {
                Thread.sleep(500);
                missing = missingIn(writes, List.of(s));
            }
            return missing;
        }
    }

    private static List<String> missingIn(List<AcknowledgedWrites> writes, List<Connection> dbs) throws Exception {
        List<String> missing = new ArrayList<>();
        for (AcknowledgedWrites w : writes) {
            w.missingIn(dbs).forEach(m -> missing.add(w.table().name() + ": " + m));
        }
        return missing;
    }

    /**
     * Ids of the tables with database ids that more than one destination shard holds (each should
     * be drawn on one shard only), at most 20; empty when every id is unique across the shards.
     */
    List<String> idsOnSeveralShards() {
        List<String> duplicates = new ArrayList<>();
        for (LoadTable t : ASSIGNED_ID_TABLES) {
            java.util.Map<String, Integer> seen = new java.util.HashMap<>();
            for (int i = 0; i < dst.size(); i++) {
                for (List<String> row : dst.get(i).queryRows("SELECT id FROM " + t.name().quoted())) {
                    Integer other = seen.put(row.get(0), i);
                    if (other != null && duplicates.size() < 20) {
                        duplicates.add(t.name() + " id " + row.get(0) + " on shards " + other + " and " + i);
                    }
                }
            }
        }
        return duplicates;
    }

    /** How many rows of the tables with database ids each destination shard assigned itself (ids past the source's). */
    long rowsWithIdsAbove(long id) {
        long n = 0;
        for (LoadTable t : ASSIGNED_ID_TABLES) {
            for (TestDatabase d : dst) {
                n += d.queryLong("SELECT count(*) FROM " + t.name().quoted() + " WHERE id > " + id);
            }
        }
        return n;
    }

    /** The embedded Temporal server, a worker and a registered proxy, all in this JVM, on this scenario's config. */
    Services startServices() throws Exception {
        return startServices(true);
    }

    /** As {@link #startServices()}; without the proxy when {@code withProxy} is false (the caller runs it elsewhere). */
    Services startServices(boolean withProxy) throws Exception {
        PgReshardConfig config = ConfigLoader.load(this.config);
        EmbeddedTemporal temporal = EmbeddedTemporal.start(temporalPort);
        WorkflowServiceStubs stubs = WorkflowServiceStubs.newServiceStubs(
                WorkflowServiceStubsOptions.newBuilder().setTarget("127.0.0.1:" + temporalPort).build());
        WorkflowClient client = WorkflowClient.newInstance(stubs);
        WorkerHost worker = WorkerHost.start(WorkerFactory.newInstance(client), config);
        tasks = new TaskService(config, client);
        return new Services(temporal, stubs, worker, withProxy ? ProxyHost.start(config, ProxyOptions.DEFAULTS) : null, tasks);
    }

    /** What {@link #startServices} started ({@code proxy} null when not in this JVM); closed in reverse order. */
    record Services(EmbeddedTemporal temporal, WorkflowServiceStubs stubs, WorkerHost worker, ProxyHost proxy,
                    TaskService tasks) implements AutoCloseable {
        /** Starts a task the way an outside Temporal client does: the workflow type, one JSON input. */
        void startTask(String taskId, ReshardInput input) {
            WorkflowClient.newInstance(stubs).newUntypedWorkflowStub(ReshardWorkflow.TYPE,
                    WorkflowOptions.newBuilder().setWorkflowId(taskId).setTaskQueue("pgreshard").build()).start(input);
        }

        @Override
        public void close() {
            try {
                tasks.close();
                if (proxy != null) {
                    proxy.close();
                }
                worker.close();
            } finally {
                stubs.shutdownNow();
                temporal.close();
            }
        }
    }

    void assertNothingLeft() {
        List<TestDatabase> all = new ArrayList<>(dst);
        all.add(src);
        for (TestDatabase db : all) {
            assertEquals(0, db.queryLong(SLOTS), "replication slots left on " + db.jdbcUrl());
            assertEquals(0, db.queryLong("SELECT count(*) FROM pg_publication WHERE pubname LIKE 'pgreshard%'"),
                    "publications left on " + db.jdbcUrl());
        }
    }
}
