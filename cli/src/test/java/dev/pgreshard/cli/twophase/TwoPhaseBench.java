package dev.pgreshard.cli.twophase;

import dev.pgreshard.cli.ProxyHost;
import dev.pgreshard.core.config.ConfigLoader;
import dev.pgreshard.proxy.ProxyOptions;
import dev.pgreshard.testkit.FreePorts;
import dev.pgreshard.testkit.PgServer;
import dev.pgreshard.testkit.PostgresFixture;
import dev.pgreshard.testkit.TestDatabase;

import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;

/**
 * bench/twophase: pgbench-style write transactions that touch two shards (UPDATE an account on shard
 * 0, UPDATE one on shard 1, INSERT a history row) through the proxy, which commits each with
 * two-phase commit, against the same transactions on one database holding every account (the peer:
 * what the application ran before resharding), in one run on one PostgreSQL server. Prints both
 * throughputs and their ratio. Run by hand with bench/twophase/run.sh; not part of mvn verify.
 *
 * <p>Arguments: {@code CLIENTS} (default 4), {@code SECONDS} per run (default 10), {@code ACCOUNTS}
 * per shard (default 10000).
 */
public final class TwoPhaseBench {
    private static final String SCHEMA = "CREATE TABLE accounts (aid bigint PRIMARY KEY, abalance int NOT NULL, "
            + "filler char(84)); CREATE TABLE history (aid bigint, delta int, mtime timestamptz DEFAULT now())";

    private TwoPhaseBench() {
    }

    public static void main(String[] args) throws Exception {
        int clients = args.length > 0 ? Integer.parseInt(args[0]) : 4;
        int seconds = args.length > 1 ? Integer.parseInt(args[1]) : 10;
        int accounts = args.length > 2 ? Integer.parseInt(args[2]) : 10_000;
        PgServer server = PostgresFixture.server("bench-twophase");
        TestDatabase control = server.createDatabase("control");
        TestDatabase d0 = server.createDatabase("d0");
        TestDatabase d1 = server.createDatabase("d1");
        TestDatabase single = server.createDatabase("single");
        List<Long> on0 = TwoPhaseCluster.idsOn(0, 1, accounts);
        List<Long> on1 = TwoPhaseCluster.idsOn(1, 1, accounts);
        for (TestDatabase d : List.of(d0, d1, single)) {
            d.execute(SCHEMA.split("; "));
        }
        fill(d0, on0);
        fill(d1, on1);
        fill(single, on0);
        fill(single, on1);

        Path dir = Files.createTempDirectory("pgreshard-bench-twophase");
        int port = FreePorts.next();
        Path config = dir.resolve("pgreshard.toml");
        Files.writeString(config, "[general]\nhost = \"127.0.0.1\"\nport = " + port + "\ncontrol_port = " + FreePorts.next()
                + "\n[control]\nurl = \"" + control.jdbcUrl() + "\"\nuser = \"postgres\"\npassword = \"postgres\"\n"
                + "[admin]\nuser = \"admin\"\npassword = \"admin\"\n" + d0.databasesEntry("dst", 0) + d1.databasesEntry("dst", 1)
                + "[[sharded_tables]]\ndatabase = \"dst\"\nname = \"accounts\"\ncolumn = \"aid\"\ndata_type = \"bigint\"\n"
                + "[[sharded_tables]]\ndatabase = \"dst\"\nname = \"history\"\ncolumn = \"aid\"\ndata_type = \"bigint\"\n");
        Files.writeString(dir.resolve("users.toml"), "[[users]]\nname = \"app\"\ndatabase = \"dst\"\npassword = \"app\"\n"
                + "server_user = \"postgres\"\nserver_password = \"postgres\"\n");
        String proxyUrl = "jdbc:postgresql://127.0.0.1:" + port + "/dst?sslmode=disable";
        WorkMeter meter = new WorkMeter(control, List.of(d0, d1, control, single));
        try (ProxyHost proxy = ProxyHost.start(ConfigLoader.load(config), ProxyOptions.DEFAULTS)) {
            // the parser and the JIT warm up: the first transactions through a fresh proxy take seconds
            run("warm-up (proxy)", proxyUrl, "app", "app", clients, Math.max(10, 2 * seconds), on0, on1, meter);
            // the same transaction kept on one shard: the proxy's own cost, without 2PC
            run("proxy, 1 shard (one-phase)", proxyUrl, "app", "app", clients, seconds, on0, on0, meter);
            double viaProxy = run("proxy, 2PC over 2 shards", proxyUrl, "app", "app", clients, seconds, on0, on1, meter);
            double direct = run("one database, direct", single.jdbcUrl(), "postgres", "postgres", clients, seconds, on0, on1, meter);
            System.out.printf(Locale.ROOT, "%nratio proxy 2PC / one database: %.2fx (goal >= 0.5x)%n", viaProxy / direct);
            System.out.printf(Locale.ROOT, "prepared transactions left: %d, decisions left: %d%n",
                    d0.queryLong("SELECT count(*) FROM pg_prepared_xacts"), waitForForgotten(control));
        }
        System.exit(0);
    }

    private static void fill(TestDatabase d, List<Long> ids) {
        StringBuilder sql = new StringBuilder("INSERT INTO accounts SELECT unnest(ARRAY[");
        for (int i = 0; i < ids.size(); i++) {
            sql.append(i == 0 ? "" : ",").append(ids.get(i));
        }
        d.execute(sql.append("]::bigint[]), 0, ''").toString(), "VACUUM ANALYZE accounts");
    }

    private static long waitForForgotten(TestDatabase control) throws InterruptedException {
        Thread.sleep(500);
        return control.queryLong("SELECT count(*) FROM pgreshard_decision");
    }

    /** {@code clients} threads running the transaction for {@code seconds}; prints and returns transactions per second. */
    private static double run(String label, String url, String user, String password, int clients, int seconds,
                              List<Long> on0, List<Long> on1, WorkMeter meter) throws Exception {
        meter.start();
        AtomicLong done = new AtomicLong();
        AtomicLong failed = new AtomicLong();
        AtomicLong statementNanos = new AtomicLong();
        AtomicLong commitNanos = new AtomicLong();
        AtomicLong clientCpuNanos = new AtomicLong();
        long end = System.nanoTime() + seconds * 1_000_000_000L;
        List<Thread> threads = new ArrayList<>();
        for (int c = 0; c < clients; c++) {
            Thread t = new Thread(() -> {
                try (Connection conn = DriverManager.getConnection(url, user, password);
                     PreparedStatement up = conn.prepareStatement("UPDATE accounts SET abalance = abalance + ? WHERE aid = ?");
                     PreparedStatement hist = conn.prepareStatement("INSERT INTO history (aid, delta) VALUES (?, ?)")) {
                    conn.setAutoCommit(false);
                    ThreadLocalRandom rnd = ThreadLocalRandom.current();
                    while (System.nanoTime() < end) {
                        long a = on0.get(rnd.nextInt(on0.size()));
                        long b = on1.get(rnd.nextInt(on1.size()));
                        int delta = rnd.nextInt(-5000, 5001);
                        try {
                            long t0 = System.nanoTime();
                            up.setInt(1, delta);
                            up.setLong(2, a);
                            up.executeUpdate();
                            up.setInt(1, -delta);
                            up.setLong(2, b);
                            up.executeUpdate();
                            hist.setLong(1, a);
                            hist.setInt(2, delta);
                            hist.executeUpdate();
                            long t1 = System.nanoTime();
                            conn.commit();
                            statementNanos.addAndGet(t1 - t0);
                            commitNanos.addAndGet(System.nanoTime() - t1);
                            done.incrementAndGet();
                        } catch (SQLException e) {
                            conn.rollback(); // e.g. a deadlock between two clients: pgbench would count it too
                            failed.incrementAndGet();
                        }
                    }
                    clientCpuNanos.addAndGet(ManagementFactory.getThreadMXBean().getCurrentThreadCpuTime());
                } catch (SQLException e) {
                    throw new IllegalStateException(label + ": " + e.getMessage(), e);
                }
            }, "bench-client-" + c);
            t.start();
            threads.add(t);
        }
        // the work is read just before the clients stop: their servers' backends are still there to be read
        Thread.sleep(Math.max(0, (end - System.nanoTime()) / 1_000_000L - 100));
        Map<String, Long> cpu = meter.readCpu();
        for (Thread t : threads) {
            t.join();
        }
        double tps = done.get() / (double) seconds;
        long n = Math.max(1, done.get());
        System.out.printf(Locale.ROOT, "%-28s %4d clients %3d s: %8.1f tps (%d transactions, %d failed; mean %.2f ms in the "
                        + "3 statements, %.2f ms in COMMIT)%n", label, clients, seconds, tps, done.get(), failed.get(),
                statementNanos.get() / 1e6 / n, commitNanos.get() / 1e6 / n);
        System.out.println(meter.cpuPerTransaction(cpu, done.get(), clientCpuNanos.get()));
        Thread.sleep(500); // the closed connections' backends exit and flush their statistics
        System.out.println(meter.commitsPerTransaction(done.get()));
        return tps;
    }
}
