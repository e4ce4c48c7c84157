package dev.pgreshard.cli.faults;

import dev.pgreshard.activities.replication.ReplicationActivitiesImpl;
import dev.pgreshard.cli.PgReshardCommand;
import dev.pgreshard.cli.load.LoadTable;
import dev.pgreshard.cli.load.WriteLoad;
import dev.pgreshard.core.config.ConfigLoader;
import dev.pgreshard.core.config.PgReshardConfig;
import dev.pgreshard.core.pg.Lsn;
import dev.pgreshard.core.pg.PgConnector;
import dev.pgreshard.testkit.ChildJvm;
import dev.pgreshard.testkit.FreePorts;
import dev.pgreshard.testkit.PgServer;
import dev.pgreshard.testkit.PostgresFixture;
import dev.pgreshard.testkit.StandaloneTemporalServer;
import dev.pgreshard.testkit.TestDatabase;
import dev.pgreshard.workflows.TaskRef;
import dev.pgreshard.workflows.replication.Direction;
import dev.pgreshard.workflows.replication.ReplicationRequest;
import dev.pgreshard.workflows.replication.ReplicationStatus;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BooleanSupplier;

/**
 * A whole pgreshard deployment made of real processes for fault tests: the source on its own
 * restartable PostgreSQL server, two destination shards on another, the control store on the
 * shared one, a standalone Temporal test server, and a worker and a proxy each in its own JVM (so
 * either can be SIGKILLed and restarted). Applications write through the proxy with {@link WriteLoad}.
 */
public final class FaultCluster implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(FaultCluster.class);
    public static final String APP_USER = "app";
    public static final String APP_PASSWORD = "app-pw-for-faults";
    /** Written before the fault (and until it hits); {@link #LOAD_AFTER} is written after it, to the end. */
    public static final LoadTable LOAD_BEFORE = LoadTable.of("load_before");
    public static final LoadTable LOAD_AFTER = LoadTable.of("load_after");
    /** Both loads also write these, with ids the database assigns (serial, identity), as an application would. */
    public static final List<LoadTable> ASSIGNED_ID_TABLES = List.of(
            LoadTable.assigned("serial_ids", LoadTable.Ids.SERIAL), LoadTable.assigned("identity_ids", LoadTable.Ids.IDENTITY));
    /** Every published table (what a test empties on the destination before a second task). */
    public static final List<String> TABLES = List.of("orders", "regions", "load_before", "load_after", "serial_ids",
            "identity_ids");

    public final PgServer sourceServer = PostgresFixture.server("faults-source");
    public final PgServer destinationServer = PostgresFixture.server("faults-destination");
    public final TestDatabase control = PostgresFixture.database("faults_control");
    public final TestDatabase src;
    public final TestDatabase d0;
    public final TestDatabase d1;
    public final Path config;
    public final int proxyPort = FreePorts.next();
    public final int controlPort = FreePorts.next();
    private final StandaloneTemporalServer temporal;
    private ChildJvm worker;
    private final List<ChildJvm> workers = new ArrayList<>();
    private ChildJvm proxy;

    public FaultCluster(Path dir, int bulkRows) throws Exception {
        // slot names are server-wide and every cell's first task is reshard-src-dst-1: a failed cell's
        // leftovers would make the next cell's slot creation fail, so each cell starts from clean servers
        for (PgServer server : List.of(sourceServer, destinationServer)) {
            dropLeftoverSlots(server);
        }
        src = sourceServer.createDatabase("fsrc");
        d0 = destinationServer.createDatabase("fd0");
        d1 = destinationServer.createDatabase("fd1");
        src.execute("CREATE TABLE orders (id bigint PRIMARY KEY, customer_id bigint NOT NULL, amount numeric, note text)",
                "ALTER TABLE orders REPLICA IDENTITY FULL",
                "INSERT INTO orders SELECT g, g % 5000, g * 0.25, repeat('x', 80) FROM generate_series(1, " + bulkRows + ") g",
                "CREATE TABLE regions (code text PRIMARY KEY, name text)",
                "INSERT INTO regions VALUES ('eu', 'Europe'), ('us', 'Americas')",
                // the load tables' primary key (tenant_id, id) covers the shard key: no REPLICA IDENTITY FULL,
                // whose changes are applied with a sequential scan each (see the README's soak notes)
                LOAD_BEFORE.ddl(), LOAD_AFTER.ddl(), ASSIGNED_ID_TABLES.get(0).ddl(), ASSIGNED_ID_TABLES.get(1).ddl(),
                "CREATE PUBLICATION pub FOR TABLE " + String.join(", ", TABLES));
        temporal = StandaloneTemporalServer.start();
        config = dir.resolve("pgreshard.toml");
        Files.writeString(config, "[general]\nhost = \"127.0.0.1\"\nport = " + proxyPort + "\ncontrol_port = " + controlPort
                + "\n[temporal]\ntarget = \"" + temporal.target() + "\"\nheartbeat_timeout_seconds = 8\n"
                + "[control]\nurl = \"" + control.jdbcUrl() + "\"\nuser = \"postgres\"\npassword = \"postgres\"\n"
                + "[admin]\nuser = \"admin\"\npassword = \"admin-pw-for-faults\"\n"
                + src.databasesEntry("src", 0) + d0.databasesEntry("dst", 0) + d1.databasesEntry("dst", 1)
                + shardedTable("orders", "customer_id") + shardedTable("load_before", LoadTable.shardKey())
                + shardedTable("load_after", LoadTable.shardKey()) + shardedTable("serial_ids", LoadTable.shardKey())
                + shardedTable("identity_ids", LoadTable.shardKey()));
        Files.writeString(dir.resolve("users.toml"), users("src", src) + users("dst", d0));
    }

    private static void dropLeftoverSlots(PgServer server) throws java.sql.SQLException, InterruptedException {
        try (Connection c = server.connect("postgres"); java.sql.Statement s = c.createStatement()) {
            s.execute("SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots WHERE active_pid IS NOT NULL");
            Thread.sleep(500); // the walsenders end and release their slots
            try (java.sql.ResultSet rs = s.executeQuery("SELECT slot_name FROM pg_replication_slots")) {
                List<String> slots = new ArrayList<>();
                while (rs.next()) {
                    slots.add(rs.getString(1));
                }
                for (String slot : slots) {
                    LOG.warn("dropping slot {} left on {} by an earlier cell", slot, server);
                    s.execute("SELECT pg_drop_replication_slot('" + slot + "')");
                }
            }
        }
    }

    private static String shardedTable(String table, String column) {
        return "[[sharded_tables]]\ndatabase = \"dst\"\nname = \"" + table + "\"\ncolumn = \"" + column
                + "\"\ndata_type = \"bigint\"\n";
    }

    private static String users(String cluster, TestDatabase db) {
        return "[[users]]\nname = \"" + APP_USER + "\"\ndatabase = \"" + cluster + "\"\npassword = \"" + APP_PASSWORD
                + "\"\nserver_user = \"" + db.server().superuser() + "\"\nserver_password = \"" + db.server().password()
                + "\"\n";
    }

    public PgReshardConfig loadConfig() {
        return ConfigLoader.load(config);
    }

    // ---- processes

    public void startWorker() throws InterruptedException {
        worker = startChild("worker", "pgreshard worker running");
        workers.add(worker);
    }

    /**
     * Activity attempts that failed, by activity type, over every worker this cluster ran (the SDK
     * logs each as "Activity failure ... activityType=X"): shows which step a fault made retry.
     */
    public java.util.Map<String, Integer> activityFailures() {
        java.util.Map<String, Integer> failures = new java.util.TreeMap<>();
        java.util.regex.Pattern type = java.util.regex.Pattern.compile("Activity failure.*?activityType=(\\w+)");
        for (ChildJvm w : workers) {
            java.util.regex.Matcher m = type.matcher(w.output());
            while (m.find()) {
                failures.merge(m.group(1), 1, Integer::sum);
            }
        }
        return failures;
    }

    public void startProxy() throws InterruptedException {
        proxy = startChild("proxy", "pgreshard proxy listening");
    }

    /** SIGKILL the Temporal test server and start an empty one on the same port (its state is in memory). */
    public void restartTemporal() {
        LOG.info("restarting the Temporal test server");
        temporal.restart();
    }

    public void killWorker() {
        LOG.info("SIGKILL worker {}", worker.pid());
        worker.kill();
    }

    public void killProxy() {
        LOG.info("SIGKILL proxy {}", proxy.pid());
        proxy.kill();
    }

    public long workerPid() {
        return worker.pid();
    }

    public long proxyPid() {
        return proxy.pid();
    }

    public String workerOutput() {
        return worker == null ? "" : worker.output();
    }

    public String proxyOutput() {
        return proxy == null ? "" : proxy.output();
    }

    private ChildJvm startChild(String command, String readyLine) throws InterruptedException {
        ChildJvm jvm = ChildJvm.start(PgReshardCommand.class.getName(), List.of("-Xmx384m"),
                List.of(command, "--config", config.toString()));
        await("the " + command + " to start", Duration.ofSeconds(150), () -> {
            if (!jvm.isAlive()) {
                throw new AssertionError(command + " exited:\n" + jvm.output());
            }
            return jvm.output().contains(readyLine);
        });
        return jvm;
    }

    /** A write load through the proxy into {@code table}, as the application would write. */
    public WriteLoad startLoad(LoadTable table, String database) throws Exception {
        return WriteLoad.start(new WriteLoad.Settings("jdbc:postgresql://127.0.0.1:" + proxyPort + "/" + database
                + "?sslmode=disable&connectTimeout=10", APP_USER, APP_PASSWORD, table, 3, 10, ASSIGNED_ID_TABLES));
    }

    // ---- the CLI, as an operator runs it

    public record Cli(int exit, String out, String err) {
    }

    public Cli cli(String... args) {
        List<String> all = new ArrayList<>(List.of(args));
        all.add(1, "--config");
        all.add(2, config.toString());
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int exit = PgReshardCommand.execute(new PrintWriter(out, true), new PrintWriter(err, true), all.toArray(String[]::new));
        return new Cli(exit, out.toString(), err.toString());
    }

    // ---- task state, from the control store's registry

    /** {@code reshard src dst pub --manual-cutover}, which must succeed; returns the task id (its last line). */
    public String reshardManually() {
        Cli started = cli("reshard", "src", "dst", "pub", "--manual-cutover");
        if (started.exit() != 0) {
            throw new AssertionError("reshard failed (exit " + started.exit() + "): " + started.err());
        }
        return started.out().strip().lines().reduce((a, b) -> b).orElseThrow();
    }

    /**
     * The cells {@code phase × fault} of {@code phases} and every {@link Fault}, or those named by
     * {@code -Dpgreshard.faults.only=PHASE:FAULT,...}.
     */
    public static java.util.stream.Stream<org.junit.jupiter.params.provider.Arguments> cells(String... phases) {
        String only = System.getProperty("pgreshard.faults.only", "");
        List<org.junit.jupiter.params.provider.Arguments> cells = new ArrayList<>();
        for (String phase : phases) {
            for (Fault fault : Fault.values()) {
                if (only.isBlank() || List.of(only.split(",")).contains(phase + ":" + fault)) {
                    cells.add(org.junit.jupiter.params.provider.Arguments.of(phase, fault));
                }
            }
        }
        return cells.stream();
    }

    public List<String> task(String taskId) {
        return control.queryRows("SELECT phase, state, coalesce(error, '') FROM pgreshard_task WHERE task_id = '" + taskId
                + "'").get(0);
    }

    public void awaitPhase(String taskId, String phase, Duration timeout) throws InterruptedException {
        List<String> order = List.of("PREFLIGHT", "SCHEMA_PRE", "COPY", "SCHEMA_POST", "REPLICATING", "CUTOVER",
                "REVERSE_REPLICATING", "DONE");
        await(taskId + " in phase " + phase, timeout, () -> {
            List<String> t = task(taskId);
            if (t.get(0).equals("FAILED") || t.get(0).equals("STOPPED")) {
                throw new AssertionError("task " + taskId + " ended before " + phase + ": " + t);
            }
            return order.indexOf(t.get(0)) >= order.indexOf(phase);
        });
    }

    public void awaitState(String taskId, String state, Duration timeout) throws InterruptedException {
        await(taskId + " in state " + state, timeout, () -> {
            List<String> t = task(taskId);
            if (!state.equals(t.get(1)) && (t.get(0).equals("FAILED") || t.get(0).equals("STOPPED"))) {
                throw new AssertionError("task " + taskId + " ended without reaching " + state + ": " + t);
            }
            return state.equals(t.get(1));
        });
    }

    /**
     * Asks for {@code signal} (cutover or rollback; unless {@code signalledAlready}) and again each
     * time an attempt did not swap (one that would overrun the pause budget is refused and traffic
     * stays put, as designed), until the task is in {@code state}. Attempts are read from the control
     * store's cutover audit. Returns how many requests it took in all.
     */
    public int switchUntil(String taskId, String signal, String state, boolean signalledAlready, Duration timeout)
            throws InterruptedException {
        String kind = signal.equals("cutover") ? "CUTOVER" : "ROLLBACK";
        int requests = signalledAlready ? 1 : 0;
        long seen = signalledAlready ? 0 : attempts(taskId, kind);
        if (!signalledAlready) {
            signal(taskId, signal);
            requests++;
        }
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            List<String> t = task(taskId);
            if (t.get(1).equals(state)) {
                return requests;
            }
            if (List.of("FAILED", "STOPPED").contains(t.get(0)) || t.get(0).equals("DONE")) {
                throw new AssertionError("task " + taskId + " ended while waiting for " + state + ": " + t);
            }
            long n = attempts(taskId, kind);
            if (n > seen) {
                seen = n;
                List<String> last = control.queryRows("SELECT swapped, reason FROM pgreshard_cutover WHERE task_id = '"
                        + taskId + "' AND kind = '" + kind + "' ORDER BY id DESC LIMIT 1").get(0);
                if (!last.get(0).equals("t")) {
                    LOG.info("{} of {} did not swap ({}); asking again", kind, taskId, last.get(1));
                    signal(taskId, signal);
                    requests++;
                }
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError(taskId + " never reached " + state + " after " + requests + " " + signal
                        + " request(s); task " + t);
            }
            Thread.sleep(200);
        }
    }

    private long attempts(String taskId, String kind) {
        return control.queryLong("SELECT count(*) FROM pgreshard_cutover WHERE task_id = '" + taskId + "' AND kind = '"
                + kind + "'");
    }

    private void signal(String taskId, String signal) {
        Cli r = cli(signal, taskId);
        if (r.exit() != 0) {
            throw new AssertionError(signal + " " + taskId + ": " + r.err());
        }
    }

    /** Waits until every destination shard durably applied the source up to the source's current position. */
    public ReplicationStatus drain(String taskId, Direction direction, Duration timeout) throws InterruptedException {
        TestDatabase from = direction == Direction.FORWARD ? src : d0;
        Lsn target = Lsn.parse(from.queryRows("SELECT pg_current_wal_lsn()::text").get(0).get(0));
        PgReshardConfig cfg = loadConfig();
        ReplicationActivitiesImpl replication = new ReplicationActivitiesImpl(cfg, new PgConnector(cfg));
        ReplicationRequest request = new ReplicationRequest(new TaskRef(taskId, "src", "dst", "pub"), direction, List.of());
        ReplicationStatus[] last = new ReplicationStatus[1];
        await("replication of " + taskId + " to reach " + target, timeout, () -> {
            last[0] = replication.status(request);
            return direction == Direction.REVERSE
                    || last[0].positions().stream().noneMatch(p -> p.appliedLsn().isBefore(target));
        });
        return last[0];
    }

    /** Acknowledged writes (of every table of the load) the given databases do not show, or show twice (empty = none). */
    public static List<String> missing(WriteLoad.Result load, TestDatabase... databases) throws Exception {
        List<Connection> connections = new ArrayList<>();
        try {
            for (TestDatabase db : databases) {
                connections.add(db.connect());
            }
            List<String> missing = new ArrayList<>();
            for (dev.pgreshard.cli.load.AcknowledgedWrites w : load.allWrites()) {
                w.missingIn(connections).forEach(m -> missing.add(w.table().name() + ": " + m));
            }
            return missing;
        } finally {
            for (Connection c : connections) {
                c.close();
            }
        }
    }

    /** Replication slots and publications pgreshard left on any of the databases (empty = nothing leaked). */
    public List<String> leftovers() {
        List<String> found = new ArrayList<>();
        for (TestDatabase db : List.of(src, d0, d1)) {
            db.queryRows("SELECT slot_name FROM pg_replication_slots WHERE database = current_database()")
                    .forEach(r -> found.add("slot " + r.get(0) + " on " + db.name()));
            db.queryRows("SELECT pubname FROM pg_publication WHERE pubname <> 'pub'")
                    .forEach(r -> found.add("publication " + r.get(0) + " on " + db.name()));
        }
        return found;
    }

    public static void await(String what, Duration timeout, BooleanSupplier done) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!done.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out after " + timeout + " waiting for " + what);
            }
            Thread.sleep(100);
        }
    }

    @Override
    public void close() {
        for (ChildJvm jvm : new ChildJvm[] {worker, proxy}) {
            if (jvm != null) {
                jvm.close();
            }
        }
        temporal.close();
    }
}
