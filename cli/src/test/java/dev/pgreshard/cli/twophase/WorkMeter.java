package dev.pgreshard.cli.twophase;

import dev.pgreshard.testkit.TestDatabase;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Work done per transaction in a bench run, steadier than throughput on a machine shared with other
 * work: CPU of this JVM's threads by role (the proxy's event loops, its 2PC decision threads, the bench's
 * clients, the rest: JIT, GC, pools) and of the PostgreSQL server's processes, from /proc (Linux clock
 * ticks), and each database's committed transactions (pg_stat_database). Linux only.
 */
final class WorkMeter {
    private static final double MS_PER_TICK = 10.0; // USER_HZ = 100 on Linux

    private final Path dataDir;
    private final List<TestDatabase> databases;
    private Map<String, Long> cpu0;
    private Map<String, Long> commits0;

    WorkMeter(TestDatabase any, List<TestDatabase> databases) {
        this.dataDir = Path.of(any.queryRows("SHOW data_directory").get(0).get(0));
        this.databases = databases;
    }

    void start() {
        cpu0 = cpu();
        commits0 = commits();
    }

    /** The CPU of every role now: read while the run's connections are still open (their server processes live). */
    Map<String, Long> readCpu() {
        return cpu();
    }

    /** CPU ms per transaction by role between {@link #start} and {@code cpu1}; the client threads report their own. */
    String cpuPerTransaction(Map<String, Long> cpu1, long transactions, long clientCpuNanos) {
        cpu1.put("clients", clientCpuNanos / 10_000_000L); // in ticks
        double n = Math.max(1, transactions);
        StringBuilder out = new StringBuilder("  per transaction: CPU ms");
        cpu1.forEach((role, t) -> out.append(String.format(Locale.ROOT, " %s %.3f", role, (t - cpu0.getOrDefault(role, 0L)) * MS_PER_TICK / n)));
        return out.toString();
    }

    /** Committed transactions per transaction by database (read once the run's connections closed: their statistics are flushed). */
    String commitsPerTransaction(long transactions) {
        Map<String, Long> commits1 = commits();
        double n = Math.max(1, transactions);
        StringBuilder out = new StringBuilder("  per transaction: commits");
        commits1.forEach((db, c) -> out.append(String.format(Locale.ROOT, " %s %.2f", db, (c - commits0.getOrDefault(db, 0L)) / n)));
        return out.toString();
    }

    private Map<String, Long> commits() {
        Map<String, Long> out = new LinkedHashMap<>();
        TestDatabase first = databases.get(0);
        first.execute("SELECT pg_stat_clear_snapshot()");
        for (TestDatabase d : databases) {
            out.put(d.name(), first.queryLong("SELECT xact_commit FROM pg_stat_database WHERE datname = '" + d.name() + "'"));
        }
        return out;
    }

    private Map<String, Long> cpu() {
        Map<String, Long> out = new LinkedHashMap<>();
        for (String role : List.of("loops", "decisions", "clients", "jvm-other", "postgres")) {
            out.put(role, 0L);
        }
        try (Stream<Path> tasks = Files.list(Path.of("/proc/self/task"))) {
            for (Path task : (Iterable<Path>) tasks::iterator) {
                String[] stat = stat(task.resolve("stat"));
                if (stat == null) {
                    continue;
                }
                String name = stat[0];
                String role = name.startsWith("bench-client") ? "clients-live" : name.startsWith("pgreshard-2pc") ? "decisions"
                        : name.startsWith("multiThreadIo") || name.startsWith("epollEventLoop") || name.startsWith("nioEventLoop")
                        ? "loops" : "jvm-other";
                out.merge(role, ticks(stat), Long::sum);
                if (role.equals("jvm-other") && Boolean.getBoolean("bench.threads")) {
                    out.merge("  " + name.replaceAll("[0-9]+", "#"), ticks(stat), Long::sum); // detail, indented
                }
            }
            long postmaster = Long.parseLong(Files.readAllLines(dataDir.resolve("postmaster.pid")).get(0).trim());
            try (Stream<Path> procs = Files.list(Path.of("/proc"))) {
                for (Path p : (Iterable<Path>) procs::iterator) {
                    if (!p.getFileName().toString().chars().allMatch(Character::isDigit)) {
                        continue;
                    }
                    String[] stat = stat(p.resolve("stat"));
                    if (stat != null && Long.parseLong(stat[2]) == postmaster) {
                        out.merge("postgres", ticks(stat), Long::sum);
                        if (Boolean.getBoolean("bench.threads")) {
                            out.merge("  pg " + process(p), ticks(stat), Long::sum); // detail, indented
                        }
                    } else if (stat != null && Long.parseLong(p.getFileName().toString()) == postmaster) {
                        // its own time and that of its ended children (backends of closed connections)
                        out.merge("postgres", ticks(stat) + Long.parseLong(stat[14]) + Long.parseLong(stat[15]), Long::sum);
                    }
                }
            }
        } catch (IOException e) {
            throw new IllegalStateException("cannot read /proc", e);
        }
        out.remove("clients-live");
        return out;
    }

    /** A server process by its role: "db_name" for a backend, else its kind (walwriter, autovacuum worker, ...). */
    private static String process(Path proc) throws IOException {
        String[] words = new String(Files.readAllBytes(proc.resolve("cmdline"))).replace('\0', ' ').trim().split(" +");
        // "postgres: user database host(port) state" or "postgres: walwriter"
        return words.length >= 4 && words[3].contains("(") ? words[2] : String.join(" ", java.util.Arrays.copyOfRange(words, 1,
                Math.min(words.length, 3)));
    }

    /** utime + stime (fields 14 and 15 of /proc/.../stat). */
    private static long ticks(String[] stat) {
        return Long.parseLong(stat[12]) + Long.parseLong(stat[13]);
    }

    /** [comm, field 3, field 4, ...] of a stat file, or null when the task ended meanwhile. */
    private static String[] stat(Path file) {
        try {
            String s = Files.readString(file);
            int open = s.indexOf('(');
            int close = s.lastIndexOf(')');
            String[] rest = s.substring(close + 2).split(" ");
            String[] out = new String[rest.length + 1];
            out[0] = s.substring(open + 1, close);
            System.arraycopy(rest, 0, out, 1, rest.length);
            return out;
        } catch (IOException e) {
            return null;
        }
    }
}
