package dev.pgreshard.cli.demo;

import dev.pgreshard.activities.verify.Verifier;
import dev.pgreshard.cli.ProgressBars;
import dev.pgreshard.cli.load.WriteLoad;
import dev.pgreshard.core.metrics.Metrics;
import dev.pgreshard.core.pg.PgConnector;
import dev.pgreshard.core.topology.TableName;
import dev.pgreshard.workflows.TaskRef;
import dev.pgreshard.workflows.reshard.CutoverAttempt;
import dev.pgreshard.workflows.reshard.Phase;
import dev.pgreshard.workflows.reshard.ReshardStatus;
import dev.pgreshard.workflows.reshard.TableProgress;
import dev.pgreshard.workflows.reshard.TaskState;
import dev.pgreshard.workflows.verify.TableVerification;
import dev.pgreshard.workflows.verify.VerifyReport;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;

import java.io.PrintWriter;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.Set;

/**
 * The demo's story, step by step, on a started {@link DemoEnvironment}: load the source, start the
 * live writer through the proxy, RESHARD through the admin database (automatic cutover), watch the
 * copy and the replication, keep writing on the destination after the cutover, then check every
 * acknowledged write, verify every table, finalize, and report.
 */
final class DemoRun {
    /** @param orders rows of the orders table; @param clients writer connections; @param writePauseMs pause per client between transactions */
    record Settings(long orders, int clients, long writePauseMs, Duration timeout) {
    }

    private final DemoEnvironment env;
    private final Settings settings;
    private final PrintWriter out;
    private final long started = System.nanoTime();

    DemoRun(DemoEnvironment env, Settings settings, PrintWriter out) {
        this.env = env;
        this.settings = settings;
        this.out = out;
    }

    DemoReport run() throws Exception {
        say("[1/6] starting PostgreSQL: a source, two destination shards and the control store (embedded)");
        DemoServers servers = env.startServers();
        env.writeConfig();
        say(String.format(Locale.ROOT, "[2/6] loading the source: %,d tenants, %,d orders (sharded by tenant), "
                + "3 plans (omnisharded: copied whole to every shard)", DemoData.TENANTS, settings.orders()));
        int sourceMajor;
        try (Connection c = servers.server("source").connect("app")) {
            DemoData.loadSource(c, settings.orders());
            sourceMajor = c.getMetaData().getDatabaseMajorVersion();
        }
        say("[3/6] starting the embedded Temporal server, a worker and the proxy on 127.0.0.1:"
                + env.config().general().port());
        env.startPgReshard(sourceMajor);
        if (!env.usesPgDump()) {
            say("      (no pg_dump " + sourceMajor + "+ installed: the worker applies the demo's own schema DDL instead)");
        }
        say("[4/6] live writer: " + settings.clients() + " clients writing through the proxy to database 'src'");
        WriteLoad load = WriteLoad.start(new WriteLoad.Settings(env.proxyUrl("src"), DemoEnvironment.APP_USER,
                env.appPassword(), DemoData.WRITES, settings.clients(), settings.writePauseMs()));
        try {
            return reshard(load);
        } finally {
            load.close();
        }
    }

    private DemoReport reshard(WriteLoad load) throws Exception {
        String taskId = startThroughAdminDatabase();
        say("[5/6] RESHARD src dst " + DemoData.PUBLICATION + " (admin database) -> task " + taskId
                + "; cutover is automatic once replication lag is low");
        Watch watch = new Watch(taskId, load);
        ReshardStatus s = watch.untilCutOver();
        Thread.sleep(3000); // the application keeps writing, now on the destination shards
        WriteLoad.Result writes = load.stop();
        say(String.format(Locale.ROOT, "[6/6] writer stopped: %,d committed, %d failed (%s); checking every "
                + "acknowledged write and verifying every table", writes.committed(), writes.failed(), writes.latency()));
        List<String> missing = writes.writes().missingIn(destinationShards());
        awaitReverseCaughtUp(taskId);
        VerifyReport verify = new Verifier(env.config(), new PgConnector(env.config()))
                .verify(new TaskRef(taskId, "src", "dst", DemoData.PUBLICATION));
        List<String> verification = new ArrayList<>();
        for (TableVerification t : verify.tables()) {
            verification.addAll(t.problems());
        }
        env.tasks().signal(taskId, "finalize", false);
        ReshardStatus end = watch.until(st -> st.phase().isFinal(), Duration.ofSeconds(60));
        CutoverAttempt cutover = s.cutoverAttempts().stream().filter(CutoverAttempt::swapped).reduce((a, b) -> b)
                .orElse(new CutoverAttempt("none", "", false, 0, 0, ""));
        List<String> problems = new ArrayList<>(missing);
        problems.addAll(writes.firstFailures());
        long rows = end.tables().stream().mapToLong(TableProgress::rows).sum();
        long bytes = end.tables().stream().mapToLong(TableProgress::bytes).sum();
        return new DemoReport(taskId, rows, bytes, watch.copySeconds(end), watch.maxLagBytes, watch.maxLagSeconds,
                cutover.lagBytes(), cutover.pauseMs(), longestCommitAroundCutover(taskId, load), writes.latency().maxMs(),
                writes.committed(), writes.failed(),
                countMissing(missing), verification, problems, end.phase().name(), (System.nanoTime() - started) / 1e9);
    }

    /** A commit this long before the pause or after the resume still counts as felt at the cutover (as in bench/cutover). */
    private static final long AROUND_CUTOVER_MS = 1000;

    /**
     * The longest commit of any writer overlapping the swapped cutover's pause (from a second before it to a
     * second after the resume): what a client felt at the cutover. The pause's end is when the control store
     * recorded it (right after the resume); -1 when there is no such record.
     */
    private double longestCommitAroundCutover(String taskId, WriteLoad load) throws SQLException {
        try (Connection c = env.servers().server("control").connect("pgreshard");
             java.sql.PreparedStatement ps = c.prepareStatement("SELECT pause_ms, (extract(epoch FROM created_at) * 1000)::bigint "
                     + "FROM pgreshard_cutover WHERE task_id = ? AND kind = 'CUTOVER' AND swapped ORDER BY id DESC LIMIT 1")) {
            ps.setString(1, taskId);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    return -1;
                }
                long ended = rs.getLong(2);
                return load.timeline().around(ended - rs.getLong(1) - AROUND_CUTOVER_MS, ended + AROUND_CUTOVER_MS).longestMs();
            }
        }
    }

    private String startThroughAdminDatabase() throws SQLException {
        Properties p = new Properties();
        p.setProperty("user", "admin");
        p.setProperty("password", env.adminPassword());
        p.setProperty("preferQueryMode", "simple");
        try (Connection c = DriverManager.getConnection(env.proxyUrl("admin"), p); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("RESHARD src dst " + DemoData.PUBLICATION)) {
            rs.next();
            return rs.getString("task_id");
        }
    }

    private List<Connection> destinationShards() throws SQLException {
        return List.of(env.servers().server("shard0").connect("app"), env.servers().server("shard1").connect("app"));
    }

    /** After the cutover the source follows the destination (reverse replication): wait until it has caught up. */
    private void awaitReverseCaughtUp(String taskId) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (System.nanoTime() < deadline) {
            ReshardStatus s = env.tasks().status(taskId);
            if (s.phase() != Phase.REVERSE_REPLICATING || s.lagBytes() == 0) {
                return;
            }
            Thread.sleep(250);
        }
    }

    /** {@link dev.pgreshard.cli.load.AcknowledgedWrites#missingIn} lists at most 20 rows, then a total. */
    private static long countMissing(List<String> missing) {
        for (String line : missing) {
            if (line.startsWith("... ")) {
                String[] w = line.split(" ");
                return Long.parseLong(w[1]) + Long.parseLong(w[4]);
            }
        }
        return missing.size();
    }

    private void say(String line) {
        out.printf(Locale.ROOT, "%5.1fs  %s%n", (System.nanoTime() - started) / 1e9, line);
        out.flush();
    }

    /** Polls the task's status, draws copy progress from the worker's meters and records lag and phase times. */
    private final class Watch {
        private final String taskId;
        private final WriteLoad load;
        private final Map<TableName, Long> estimates = new HashMap<>();
        private final Set<TableName> finished = new HashSet<>();
        private ProgressBars bars;
        private Phase phase;
        private long copyStarted;
        private long copyEnded;
        private long lastLine;
        private int attemptsShown;
        long maxLagBytes;
        double maxLagSeconds;

        Watch(String taskId, WriteLoad load) {
            this.taskId = taskId;
            this.load = load;
        }

        ReshardStatus untilCutOver() throws InterruptedException {
            ReshardStatus s = until(st -> st.state() == TaskState.WAITING_FOR_FINALIZE || st.phase().isFinal(),
                    settings.timeout());
            if (s.state() != TaskState.WAITING_FOR_FINALIZE) {
                throw new IllegalStateException("task " + taskId + " ended in phase " + s.phase() + " before its cutover"
                        + (s.error().isEmpty() ? "" : ": " + s.error()));
            }
            return s;
        }

        ReshardStatus until(java.util.function.Predicate<ReshardStatus> done, Duration timeout) throws InterruptedException {
            long deadline = System.nanoTime() + timeout.toNanos();
            while (true) {
                ReshardStatus s = env.tasks().status(taskId);
                observe(s);
                if (done.test(s)) {
                    return s;
                }
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("task " + taskId + " still in phase " + s.phase() + " (" + s.state()
                            + ") after " + timeout.toSeconds() + " s" + (s.error().isEmpty() ? "" : ": " + s.error()));
                }
                Thread.sleep(250);
            }
        }

        private void observe(ReshardStatus s) {
            long now = System.nanoTime();
            if (s.phase() != phase) {
                if (s.phase() == Phase.COPY) {
                    copyStarted = now;
                } else if (phase == Phase.COPY) {
                    copyEnded = now;
                }
                phase = s.phase();
                say("      phase " + phase + (s.state() == TaskState.RUNNING ? "" : " (" + s.state() + ")"));
                s.warnings().forEach(w -> say("      warning: " + w));
            }
            // an attempt still running is listed as in progress: reported once it has an outcome
            for (int i = attemptsShown; i < s.cutoverAttempts().size() && !s.cutoverAttempts().get(i).inProgress(); i++) {
                CutoverAttempt a = s.cutoverAttempts().get(i);
                say("      " + a.kind().toLowerCase(Locale.ROOT) + " attempt " + (i + 1) + ": " + (a.swapped()
                        ? "swapped, clients paused " + a.pauseMs() + " ms"
                        : "did not swap (" + a.reason() + "); the task retries it"));
                attemptsShown = i + 1;
            }
            // a fast phase may fall between two polls: draw until every table is reported copied
            if (phase.ordinal() >= Phase.COPY.ordinal() && !phase.isFinal() && finished.size() < s.tables().size()) {
                drawCopy(s);
            }
            if (phase == Phase.REPLICATING) {
                maxLagBytes = Math.max(maxLagBytes, s.lagBytes());
                maxLagSeconds = Math.max(maxLagSeconds, s.lagSeconds());
            }
            // and the worker's own lag gauges (refreshed every second while forward replication runs)
            for (Gauge g : Metrics.registry().find("pgreshard.replication.lag.bytes").tag("task", taskId)
                    .tag("direction", "forward").gauges()) {
                maxLagBytes = Math.max(maxLagBytes, (long) g.value());
            }
            for (Gauge g : Metrics.registry().find("pgreshard.replication.lag.seconds").tag("task", taskId)
                    .tag("direction", "forward").gauges()) {
                maxLagSeconds = Math.max(maxLagSeconds, g.value());
            }
            if ((phase == Phase.REPLICATING || phase == Phase.REVERSE_REPLICATING) && now - lastLine > 2_000_000_000L) {
                lastLine = now;
                say(String.format(Locale.ROOT, "      %s: lag %s, %.1f s; writer %,d transactions", phase == Phase.REPLICATING
                        ? "replicating src -> dst" : "reverse replicating dst -> src", DemoReport.bytes(s.lagBytes()),
                        s.lagSeconds(), load.committed()));
            }
        }

        /** Copy progress from the worker's own meters (this JVM's registry): live rows and bytes per table. */
        private void drawCopy(ReshardStatus s) {
            if (bars == null) {
                for (TableProgress t : s.tables()) {
                    estimates.put(t.table(), tableSize(t.table()));
                }
                bars = new ProgressBars(out, estimates);
                s.tables().forEach(t -> bars.started(t.table()));
            }
            Map<TableName, long[]> live = new HashMap<>();
            for (Counter c : Metrics.registry().find("pgreshard.copy.rows").tag("task", taskId).counters()) {
                live.computeIfAbsent(TableName.parse(c.getId().getTag("table")), t -> new long[2])[0] = (long) c.count();
            }
            for (Counter c : Metrics.registry().find("pgreshard.copy.bytes").tag("task", taskId).counters()) {
                live.computeIfAbsent(TableName.parse(c.getId().getTag("table")), t -> new long[2])[1] = (long) c.count();
            }
            for (TableProgress t : s.tables()) {
                if (TableProgress.COPIED.equals(t.state())) {
                    if (finished.add(t.table())) {
                        bars.finished(t.table(), t.rows(), t.bytes());
                    }
                } else if (live.containsKey(t.table())) {
                    bars.progress(t.table(), live.get(t.table())[0], live.get(t.table())[1]);
                }
            }
        }

        private long tableSize(TableName table) {
            try (Connection c = env.servers().server("source").connect("app"); Statement st = c.createStatement();
                 ResultSet rs = st.executeQuery("SELECT pg_table_size(to_regclass('" + table.quoted().replace("'", "''")
                         + "'))")) {
                return rs.next() ? rs.getLong(1) : 1;
            } catch (SQLException e) {
                return 1;
            }
        }

        /** The COPY phase as observed; when it fell between two polls, the longest table copy. */
        double copySeconds(ReshardStatus end) {
            if (copyStarted != 0 && copyEnded != 0) {
                return (copyEnded - copyStarted) / 1e9;
            }
            return end.tables().stream().mapToLong(TableProgress::millis).max().orElse(0) / 1e3;
        }
    }
}
