package dev.pgreshard.cli;

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
 * bench/cutover: the client-visible pause of pgreshard's cutover and rollback, repeated under an
 * 8-client write load through the proxy, against the peer floor measured in the same run: PgBouncer's
 * own PAUSE + RESUME (no data movement at all) under the same load through PgBouncer. Prints both
 * distributions and their ratio. Run by hand with bench/cutover/run.sh; not part of mvn verify.
 *
 * <p>Arguments: {@code CYCLES} (each is a RESHARD with automatic cutover and a rollback: two
 * switches; default 10 = 20 switches) and the pgbouncer binary (default /usr/sbin/pgbouncer).
 */
public final class CutoverBench {
    private CutoverBench() {
    }

    public static void main(String[] args) throws Exception {
        int cycles = args.length > 0 ? Integer.parseInt(args[0]) : 10;
        String pgbouncer = args.length > 1 ? args[1] : "/usr/sbin/pgbouncer";
        Path dir = Files.createTempDirectory("pgreshard-bench-cutover");
        PgServer server = PostgresFixture.server();
        TestDatabase control = server.createDatabase("control");
        TestDatabase src = server.createDatabase("src");
        TestDatabase d0 = server.createDatabase("d0");
        TestDatabase d1 = server.createDatabase("d1");
        CutoverScenario s = CutoverScenario.create(dir, control, src, d0, d1, "cutover_pause_budget_ms = 1000\n");
        s.createSourceTables();

        List<Long> pauses = new ArrayList<>();
        WriteLoad.Result ours;
        try (CutoverScenario.Services services = s.startServices()) {
            WriteLoad load = s.startLoad(List.of()); // the peer writes the same load (no database-assigned ids)
            for (int i = 1; i <= cycles; i++) {
                String task = s.reshard();
                s.awaitStatus(task, "phase: REVERSE_REPLICATING");
                Thread.sleep(1000);
                if (s.cli("rollback", task).exit() != 0) {
                    throw new IllegalStateException("rollback of " + task + " refused");
                }
                s.awaitStatus(task, "ROLLED_BACK");
                d0.execute(CutoverScenario.TRUNCATE_MOVED);
                d1.execute(CutoverScenario.TRUNCATE_MOVED);
                System.out.printf("cycle %d/%d done (%d commits so far)%n", i, cycles, load.committed());
            }
            ours = load.stop();
        }
        try (Connection c = control.connect(); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT pause_ms FROM pgreshard_cutover WHERE swapped ORDER BY id")) {
            while (rs.next()) {
                pauses.add(rs.getLong(1));
            }
        }

        src.execute("TRUNCATE events"); // the peer's load writes the same ids again
        PeerResult peer = pgbouncerPauseResume(pgbouncer, server, src, dir, pauses.size());
        System.out.println();
        System.out.println("== cutover pause under an 8-client write load (" + pauses.size() + " switches: "
                + cycles + " cutovers + " + cycles + " rollbacks)");
        System.out.println("pgreshard cutover/rollback pause : " + distribution(pauses));
        System.out.println("pgbouncer PAUSE+RESUME (peer)    : " + distribution(peer.pauses)
                + "  (no data movement: the floor of any proxy-side switch)");
        System.out.printf(Locale.ROOT, "ratio pgreshard/pgbouncer       : p50 %.1fx, max %.1fx%n",
                ratio(percentile(pauses, 50), percentile(peer.pauses, 50)), ratio(max(pauses), max(peer.pauses)));
        System.out.println("client commit latency, pgreshard run : " + ours.latency() + ", failed " + ours.failed());
        System.out.println("client commit latency, pgbouncer run : " + peer.load.latency() + ", failed " + peer.load.failed());
        System.out.println("(the max commit latency is the longest client-visible stall; goal: pause < 250 ms at p100)");
        System.exit(0);
    }

    private record PeerResult(List<Long> pauses, WriteLoad.Result load) {
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
            WriteLoad load = WriteLoad.start(new WriteLoad.Settings(url, server.superuser(), server.password(),
                    CutoverScenario.EVENTS, 8, 2));
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
