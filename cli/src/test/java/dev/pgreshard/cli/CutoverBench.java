package dev.pgreshard.cli;

import dev.pgreshard.cli.load.CommitTimeline;
import dev.pgreshard.cli.load.WriteLoad;
import dev.pgreshard.testkit.FreePorts;
import dev.pgreshard.testkit.PgServer;
import dev.pgreshard.testkit.PostgresFixture;
import dev.pgreshard.testkit.TestDatabase;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

/**
 * bench/cutover: what clients feel when pgreshard switches their traffic. Each cycle is a RESHARD with
 * automatic cutover (source: 1 shard; destination: 2 shards) and a rollback: two switches, all the while
 * 8 clients write through the proxy (or two proxies, the clients spread over both). The headline, per
 * switch, is the longest commit of any client around it (from a second before its pause to a second
 * after): the stall a client felt, next to the pause pgreshard measured. The source, the two
 * destination shards and the control store each run on a PostgreSQL server of their own (separate
 * server processes, as in production), unless SERVERS=one. Then the peer runs under the same load:
 * PgBouncer (transaction pooling) in front of the source, whose admin console issues
 * {@code PAUSE src; RESUME src;} as many times as pgreshard switched: the floor of any proxy-side switch.
 * Run by hand with bench/cutover/run.sh; not part of mvn verify.
 *
 * <p>Arguments: {@code CYCLES} (each = 2 switches; default 10 = 20 switches per setup), the pgbouncer
 * binary, and the setups as {@code PROXIES} counts (default "1,2"). Environment: SERVERS=separate
 * (default) or one.
 */
public final class CutoverBench {
    /** A commit this long before a pause or after its end still counts as "around" the switch. */
    private static final long AROUND_MS = 1000;

    private CutoverBench() {
    }

    /** The 8 writers, in this JVM or in one of their own ({@link ClientsProcess}). */
    interface Writers extends AutoCloseable {
        /** Commits so far. */
        long committed();

        /** Stops writing (each client finishes its transaction); then {@link #timeline} is complete. */
        Outcome stop() throws Exception;

        CommitTimeline timeline();
    }

    /** What the writers saw: failed transactions and the commit latency over the whole run. */
    record Outcome(long failed, dev.pgreshard.cli.load.LatencyRecorder.Summary latency) {
    }

    /** The writers as threads of this JVM (CLIENTS_JVM=shared), where its GC and safepoint pauses stall them too. */
    private record SharedJvmWriters(WriteLoad load) implements Writers {
        @Override
        public long committed() {
            return load.committed();
        }

        @Override
        public Outcome stop() throws InterruptedException {
            WriteLoad.Result r = load.stop();
            return new Outcome(r.failed(), r.latency());
        }

        @Override
        public CommitTimeline timeline() {
            return load.timeline();
        }

        @Override
        public void close() throws InterruptedException {
            load.close();
        }
    }

    /** Starts the writers where CLIENTS_JVM says: a JVM of their own (default), or this one ("shared"). */
    private static Writers startWriters(WriteLoad.Settings settings, Path dir) throws Exception {
        return CLIENTS_OWN_JVM ? ClientsProcess.start(settings, dir) : new SharedJvmWriters(WriteLoad.start(settings));
    }

    /** Production's clients are processes of their own; "shared" runs them in this JVM, with the worker and Temporal. */
    private static final boolean CLIENTS_OWN_JVM = !"shared".equals(System.getenv("CLIENTS_JVM"));

    /** One switch as the control store recorded it, and what clients felt around it. */
    private record Switch(String kind, long pauseMs, long endedAtMillis, CommitTimeline.Window felt) {
    }

    public static void main(String[] args) throws Exception {
        int cycles = args.length > 0 ? Integer.parseInt(args[0]) : 10;
        String pgbouncer = args.length > 1 ? args[1] : "/usr/sbin/pgbouncer";
        List<Integer> setups = java.util.Arrays.stream((args.length > 2 ? args[2] : "1,2").split(","))
                .map(String::trim).map(Integer::parseInt).toList();
        boolean separate = !"one".equals(System.getenv("SERVERS"));
        // production runs the proxy in a JVM of its own; "shared" puts it in this one, with the worker, Temporal and the clients
        boolean ownJvm = !"shared".equals(System.getenv("PROXY_JVM"));
        Path dir = Files.createTempDirectory("pgreshard-bench-cutover");
        PgServer controlServer = PostgresFixture.server();
        PgServer srcServer = separate ? PostgresFixture.server("bench-src") : controlServer;
        PgServer d0Server = separate ? PostgresFixture.server("bench-d0") : controlServer;
        PgServer d1Server = separate ? PostgresFixture.server("bench-d1") : controlServer;
        String machine = machine();
        String layout = separate ? "source, shard 0, shard 1 and control store on 4 separate PostgreSQL servers (ports "
                + srcServer.port() + ", " + d0Server.port() + ", " + d1Server.port() + ", " + controlServer.port() + ")"
                : "everything on one PostgreSQL server";
        layout += ownJvm ? "; each proxy in a JVM of its own (JVM options: '" + ProxyProcess.javaOptions() + "')" : "; the proxies in the bench's JVM with the worker, Temporal and the clients (PROXY_JVM=shared)";
        layout += CLIENTS_OWN_JVM ? "; the 8 clients in a JVM of their own (JVM options: '" + ClientsProcess.javaOptions() + "')"
                : "; the 8 clients in the bench's JVM with the worker and Temporal (CLIENTS_JVM=shared)";

        List<String> report = new ArrayList<>();
        List<Long> allPauses = new ArrayList<>();
        TestDatabase lastSrc = null;
        for (int proxies : setups) {
            TestDatabase control = controlServer.createDatabase("control");
            TestDatabase src = srcServer.createDatabase("src");
            TestDatabase d0 = d0Server.createDatabase("d0");
            TestDatabase d1 = d1Server.createDatabase("d1");
            lastSrc = src;
            Path setupDir = Files.createDirectories(dir.resolve(proxies + "-proxies"));
            CutoverScenario s = CutoverScenario.create(setupDir, control, src, d0, d1, "cutover_pause_budget_ms = 1000\n");
            s.createSourceTables();
            Outcome result;
            List<Switch> switches;
            CommitTimeline timeline;
            List<long[]> steady = new ArrayList<>();
            int secondPort = FreePorts.next();
            try (CutoverScenario.Services services = s.startServices(!ownJvm);
                 AutoCloseable first = ownJvm ? ProxyProcess.start(s.config, setupDir.resolve("proxy-1.log")) : null;
                 AutoCloseable second = proxies > 1 ? secondProxy(s, ownJvm, secondPort, setupDir) : null;
                 Writers load = startWriters(new WriteLoad.Settings(second == null ? s.proxyUrl() : "jdbc:postgresql://127.0.0.1:"
                         + s.proxyPort + ",127.0.0.1:" + secondPort + "/src?loadBalanceHosts=true", "postgres", "postgres",
                         CutoverScenario.EVENTS, 8, 2), setupDir)) {
                for (int i = 1; i <= cycles; i++) {
                    String task = s.reshard();
                    s.awaitStatus(task, "phase: REVERSE_REPLICATING");
                    Thread.sleep(AROUND_MS + 200); // the cutover's window is over before the rollback starts
                    // then a stretch of steady (reverse) replication with no switch step: the background to read
                    // the switches' figure against (what clients feel here comes from the machine, not a switch)
                    long steadyFrom = System.currentTimeMillis();
                    Thread.sleep(STEADY_MS);
                    steady.add(new long[] {steadyFrom, System.currentTimeMillis()});
                    if (s.cli("rollback", task).exit() != 0) {
                        throw new IllegalStateException("rollback of " + task + " refused");
                    }
                    s.awaitStatus(task, "ROLLED_BACK");
                    // the next cycle (emptying the shards, schema and copy) starts once the rollback's window is
                    // over: until 2026-12-02 it started at once, and its load landed in the rollback's figure
                    Thread.sleep(AROUND_MS + 200);
                    d0.execute(CutoverScenario.TRUNCATE_MOVED);
                    d1.execute(CutoverScenario.TRUNCATE_MOVED);
                    System.out.printf("%d proxy(ies): cycle %d/%d done (%d commits so far)%n", proxies, i, cycles, load.committed());
                }
                Thread.sleep(AROUND_MS + 200); // the window after the last switch is complete
                result = load.stop();
                timeline = load.timeline();
                switches = switches(control, timeline);
            }
            String dump = System.getenv("TIMELINE_OUT");
            if (dump != null) {
                writeTimeline(Path.of(dump, proxies + "-proxies"), timeline, switches);
            }
            List<Long> felt = switches.stream().map(w -> Math.round(w.felt().longestMs())).toList();
            List<Long> pauses = switches.stream().map(Switch::pauseMs).toList();
            allPauses.addAll(pauses);
            report.add("");
            report.add("-- " + proxies + " proxy(ies), 8 writers, " + switches.size() + " switches (" + cycles + " cutovers + "
                    + cycles + " rollbacks)");
            for (int i = 0; i < switches.size(); i++) {
                Switch w = switches.get(i);
                // where the longest commit lay: from its start to the pause's start, and from the pause's end (resume) to its end
                long pauseStart = w.endedAtMillis() - w.pauseMs();
                report.add(String.format(Locale.ROOT, "  switch %2d %-8s pause %4d ms   longest client commit around it %4d ms "
                                + "(started %+d ms from the pause, ended %+d ms from the resume; first statement %d ms, "
                                + "COMMIT %d ms; %d commits)",
                        i + 1, w.kind(), w.pauseMs(), felt.get(i), w.felt().longestStartedAtMillis() - pauseStart,
                        w.felt().longestEndedAtMillis() - w.endedAtMillis(), Math.round(w.felt().longestFirstMs()),
                        Math.round(w.felt().longestCommitMs()), w.felt().commits()));
            }
            report.add(String.format(Locale.ROOT, "HEADLINE %d proxy(ies): client-felt p100 %d ms (longest commit around any switch; "
                            + "goal < 250 ms), p50 %d ms, p90 %d ms | pause p50 %d ms, max %d ms | failed transactions %d",
                    proxies, max(felt), percentile(felt, 50), percentile(felt, 90), percentile(pauses, 50), max(pauses), result.failed()));
            report.add("  commit latency over the whole run (copy and replication included): " + result.latency());
            report.add("  " + background(timeline, steady, percentile(pauses, 50)));
        }

        lastSrc.execute("TRUNCATE events"); // the peer's load writes the same ids again
        PeerResult peer = pgbouncerPauseResume(pgbouncer, srcServer, lastSrc, dir, Math.max(1, allPauses.size() / setups.size()));
        System.out.println();
        System.out.println("== bench/cutover, started " + machine + "; ended " + machine());
        System.out.println("   " + layout);
        report.forEach(System.out::println);
        System.out.println();
        System.out.println("pgbouncer PAUSE+RESUME (peer, same load, source server): " + distribution(peer.pauses)
                + "; longest commit " + Math.round(peer.load.latency().maxMs()) + " ms (no data movement: the floor of any proxy-side switch)");
        System.out.printf(Locale.ROOT, "ratio pgreshard pause / pgbouncer: p50 %.1fx, max %.1fx%n",
                ratio(percentile(allPauses, 50), percentile(peer.pauses, 50)), ratio(max(allPauses), max(peer.pauses)));
        System.exit(0);
    }

    /** A second proxy on the same config (other ports), registered like the first, in its own JVM or in this one. */
    private static AutoCloseable secondProxy(CutoverScenario s, boolean ownJvm, int port, Path dir) throws Exception {
        int controlPort = FreePorts.next();
        if (ownJvm) {
            return ProxyProcess.start(s.config, dir.resolve("proxy-2.log"), "--port=" + port, "--control-port=" + controlPort);
        }
        dev.pgreshard.core.config.PgReshardConfig config = dev.pgreshard.core.config.ConfigLoader.load(s.config);
        config = config.withGeneral(config.general().withProxyAddress(null, port, controlPort));
        return ProxyHost.start(config, dev.pgreshard.proxy.ProxyOptions.DEFAULTS);
    }

    /** The swapped switches recorded in the control store, each with the longest commit around its pause. */
    private static List<Switch> switches(TestDatabase control, CommitTimeline timeline) throws Exception {
        List<Switch> out = new ArrayList<>();
        try (Connection c = control.connect(); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT kind, pause_ms, (extract(epoch FROM created_at) * 1000)::bigint "
                     + "FROM pgreshard_cutover WHERE swapped ORDER BY id")) {
            while (rs.next()) {
                long pause = rs.getLong(2);
                long ended = rs.getLong(3); // recorded right after the resume
                out.add(new Switch(rs.getString(1), pause, ended, timeline.around(ended - pause - AROUND_MS, ended + AROUND_MS)));
            }
        }
        return out;
    }

    /**
     * Every commit of a setup ({@code commits.bin}, as {@link CommitTimeline#writeTo} writes it) and its switches
     * ({@code switches.txt}: kind, pause start in epoch ms, pause ms), for a closer look at one run (TIMELINE_OUT).
     */
    private static void writeTimeline(Path dir, CommitTimeline timeline, List<Switch> switches) throws java.io.IOException {
        Files.createDirectories(dir);
        try (java.io.DataOutputStream out = new java.io.DataOutputStream(new java.io.BufferedOutputStream(
                Files.newOutputStream(dir.resolve("commits.bin"))))) {
            timeline.writeTo(out);
        }
        Files.write(dir.resolve("switches.txt"), switches.stream()
                .map(w -> w.kind() + " " + (w.endedAtMillis() - w.pauseMs()) + " " + w.pauseMs()).toList());
    }

    /** Per cycle, after the cutover's window: this long with no switch step, where {@link #background} measures. */
    private static final long STEADY_MS = 4300;

    /**
     * The same figure without a switch: the longest commit in windows as long as a switch's (a second each side
     * of the median pause), laid end to end in the stretches after each cutover's window and before the rollback
     * starts (clients writing, the reverse stream replicating, no switch step): what the machine alone makes
     * clients feel, to read the headline against. The share of windows with a commit of 250 ms or more gives the
     * chance that 20 such windows would all stay under the goal.
     */
    private static String background(CommitTimeline timeline, List<long[]> stretches, long medianPauseMs) {
        long length = 2 * AROUND_MS + medianPauseMs;
        List<Long> longest = new ArrayList<>();
        for (long[] stretch : stretches) {
            for (long t = stretch[0]; t + length <= stretch[1]; t += length) {
                longest.add(Math.round(timeline.around(t, t + length).longestMs()));
            }
        }
        long over = longest.stream().filter(ms -> ms >= 250).count();
        double allUnder = longest.isEmpty() ? Double.NaN : Math.pow(1 - (double) over / longest.size(), 20);
        return String.format(Locale.ROOT, "background (steady replication, no switch step; %d windows of %d ms after the "
                        + "cutovers' windows): longest commit p50 %d ms, p90 %d ms, p100 %d ms; %d of them >= 250 ms "
                        + "(20 such windows all under 250 ms: %.0f %% likely)", longest.size(), length,
                percentile(longest, 50), percentile(longest, 90), max(longest), over, 100 * allUnder);
    }

    /** When, on what: date, cores, load average (benchmark figures mean little without them). */
    private static String machine() {
        String load = "?";
        try {
            load = Files.readString(Path.of("/proc/loadavg")).trim();
        } catch (java.io.IOException e) {
            // not Linux: leave it unknown
        }
        return java.time.Instant.now().truncatedTo(java.time.temporal.ChronoUnit.SECONDS) + ", "
                + Runtime.getRuntime().availableProcessors() + " cores, load average " + load;
    }

    private record PeerResult(List<Long> pauses, Outcome load) {
    }

    /** The same load through PgBouncer (transaction pooling) while its admin console pauses and resumes the database. */
    private static PeerResult pgbouncerPauseResume(String binary, PgServer server, TestDatabase src, Path dir, int times)
            throws Exception {
        int port = FreePorts.next();
        Path ini = dir.resolve("pgbouncer.ini");
        Files.writeString(dir.resolve("userlist.txt"), "\"" + server.superuser() + "\" \"" + server.password() + "\"\n");
        Files.writeString(ini, "[databases]\nsrc = host=" + server.host() + " port=" + server.port() + " dbname=" + src.name()
                + "\n[pgbouncer]\nlisten_addr = 127.0.0.1\nlisten_port = " + port + "\nauth_type = plain\nauth_file = "
                + dir.resolve("userlist.txt") + "\nadmin_users = " + server.superuser() + "\npool_mode = transaction\n"
                + "max_client_conn = 100\ndefault_pool_size = 20\nignore_startup_parameters = extra_float_digits\n"
                + "unix_socket_dir =\nlogfile = " + dir.resolve("pgbouncer.log") + "\n");
        ProcessBuilder pb = new ProcessBuilder(binary, ini.toString()).redirectErrorStream(true)
                .redirectOutput(dir.resolve("pgbouncer.out").toFile());
        if ("root".equals(System.getProperty("user.name"))) {
            // pgbouncer refuses to run as root: run it as postgres, which must read the files and write its log
            Files.setPosixFilePermissions(dir, java.nio.file.attribute.PosixFilePermissions.fromString("rwxrwxrwx"));
            for (String f : List.of("pgbouncer.ini", "userlist.txt")) {
                Files.setPosixFilePermissions(dir.resolve(f), java.nio.file.attribute.PosixFilePermissions.fromString("rw-rw-rw-"));
            }
            pb.command("runuser", "-u", "postgres", "--", binary, ini.toString());
        }
        Process bouncer = pb.start();
        try {
            Thread.sleep(1000);
            String url = "jdbc:postgresql://127.0.0.1:" + port + "/src?preferQueryMode=simple";
            try (Writers load = startWriters(new WriteLoad.Settings(url, server.superuser(), server.password(),
                    CutoverScenario.EVENTS, 8, 2), dir)) {
                List<Long> pauses = new ArrayList<>();
                // psql keeps one admin-console session open (PgJDBC's login SETs are refused by the console)
                ProcessBuilder psqlBuilder = new ProcessBuilder("psql", "-X", "-q", "-h", "127.0.0.1", "-p", String.valueOf(port),
                        "-U", server.superuser(), "pgbouncer").redirectErrorStream(true);
                psqlBuilder.environment().put("PGPASSWORD", server.password());
                Process psql = psqlBuilder.start();
                try (java.io.BufferedWriter in = new java.io.BufferedWriter(new java.io.OutputStreamWriter(psql.getOutputStream()));
                     java.io.BufferedReader out = new java.io.BufferedReader(new java.io.InputStreamReader(psql.getInputStream()))) {
                    for (int i = 0; i < times; i++) {
                        Thread.sleep(1000);
                        long start = System.nanoTime();
                        in.write("PAUSE src;\nRESUME src;\n\\echo switched\n");
                        in.flush();
                        String line;
                        while ((line = out.readLine()) != null && !line.equals("switched")) {
                            if (!line.isBlank()) {
                                throw new IllegalStateException("pgbouncer admin console: " + line);
                            }
                        }
                        pauses.add(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start));
                    }
                    in.write("\\q\n");
                    in.flush();
                } finally {
                    psql.waitFor(5, TimeUnit.SECONDS);
                    psql.destroy();
                }
                return new PeerResult(pauses, load.stop());
            }
        } finally {
            bouncer.destroy();
            bouncer.waitFor(5, TimeUnit.SECONDS);
        }
    }

    private static String distribution(List<Long> values) {
        return String.format(Locale.ROOT, "n=%d p50 %d ms, p90 %d ms, max %d ms", values.size(), percentile(values, 50),
                percentile(values, 90), max(values));
    }

    private static long percentile(List<Long> values, int p) {
        if (values.isEmpty()) {
            return 0;
        }
        List<Long> sorted = new ArrayList<>(values);
        Collections.sort(sorted);
        return sorted.get(Math.min(sorted.size() - 1, (int) Math.ceil(p / 100.0 * sorted.size()) - 1));
    }

    private static long max(List<Long> values) {
        return values.isEmpty() ? 0 : Collections.max(values);
    }

    private static double ratio(long a, long b) {
        return b == 0 ? Double.NaN : (double) a / b;
    }
}
