package dev.pgreshard.cli.faults;

import dev.pgreshard.testkit.TestDatabase;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What the soak watches, sampled over time: heap used after a full GC in the worker and proxy JVMs
 * (jcmd), WAL retained by replication slots on the source and destination servers, and backend
 * connections on both. {@link #unboundedGrowth} compares the last third of the run with the first.
 */
final class SoakSamples {
    private static final Logger LOG = LoggerFactory.getLogger(SoakSamples.class);
    private static final Pattern USED = Pattern.compile("used (\\d+)K");
    /** Per series: name, absolute slack allowed on top of 1.5 × the first third's peak. */
    private static final String[] SERIES = {"worker_heap_mb", "proxy_heap_mb", "source_retained_wal_mb",
            "destination_retained_wal_mb", "source_connections", "destination_connections"};
    private static final double[] SLACK = {48, 32, 64, 64, 10, 10};

    private final FaultCluster cluster;
    private final long startNanos = System.nanoTime();
    private final List<double[]> rows = new ArrayList<>();

    SoakSamples(FaultCluster cluster) {
        this.cluster = cluster;
    }

    /** One sample; a failed sample is logged and skipped (the run goes on). */
    void take() {
        try {
            double[] row = {
                    heapMb(cluster.workerPid()),
                    heapMb(cluster.proxyPid()),
                    retainedWalMb(cluster.src),
                    retainedWalMb(cluster.d0),
                    connections(cluster.src),
                    connections(cluster.d0)};
            synchronized (rows) {
                rows.add(row);
            }
        } catch (RuntimeException | IOException e) {
            LOG.warn("soak sample skipped: {}", e.toString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    String csv() {
        StringBuilder b = new StringBuilder("sample," + String.join(",", SERIES) + "\n");
        synchronized (rows) {
            for (int i = 0; i < rows.size(); i++) {
                b.append(i);
                for (double v : rows.get(i)) {
                    b.append(',').append(String.format(java.util.Locale.ROOT, "%.1f", v));
                }
                b.append('\n');
            }
        }
        return b.toString();
    }

    /** Series whose last-third peak exceeds 1.5 × their first-third peak plus the series' slack. */
    List<String> unboundedGrowth() {
        List<double[]> all;
        synchronized (rows) {
            all = List.copyOf(rows);
        }
        if (all.size() < 6) {
            throw new AssertionError("only " + all.size() + " samples: the soak ran too briefly to judge growth");
        }
        int third = all.size() / 3;
        List<String> growing = new ArrayList<>();
        for (int s = 0; s < SERIES.length; s++) {
            double first = peak(all.subList(0, third), s);
            double last = peak(all.subList(all.size() - third, all.size()), s);
            if (last > first * 1.5 + SLACK[s]) {
                growing.add(String.format(java.util.Locale.ROOT, "%s: first third peak %.1f, last third peak %.1f",
                        SERIES[s], first, last));
            }
        }
        return growing;
    }

    private static double peak(List<double[]> rows, int series) {
        return rows.stream().mapToDouble(r -> r[series]).max().orElse(0);
    }

    /** Heap used after a full GC, from jcmd (the JDK's own tool, beside this JVM's java). */
    private static double heapMb(long pid) throws IOException, InterruptedException {
        jcmd(pid, "GC.run");
        String info = jcmd(pid, "GC.heap_info");
        Matcher m = USED.matcher(info);
        if (!m.find()) {
            throw new IOException("no 'used' in jcmd GC.heap_info of " + pid + ": " + info);
        }
        return Long.parseLong(m.group(1)) / 1024.0;
    }

    private static String jcmd(long pid, String command) throws IOException, InterruptedException {
        String jcmd = Path.of(System.getProperty("java.home"), "bin", "jcmd").toString();
        Process p = new ProcessBuilder(jcmd, Long.toString(pid), command).redirectErrorStream(true).start();
        byte[] out = p.getInputStream().readAllBytes();
        if (!p.waitFor(30, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IOException("jcmd " + command + " on " + pid + " hung");
        }
        return new String(out, StandardCharsets.UTF_8);
    }

    /** WAL kept for all slots of the database's server (pg_wal_lsn_diff from each slot's restart_lsn). */
    private static double retainedWalMb(TestDatabase db) {
        return db.queryLong("SELECT coalesce(sum(pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn)), 0)::bigint "
                + "FROM pg_replication_slots") / (1024.0 * 1024.0);
    }

    private static double connections(TestDatabase db) {
        return db.queryLong("SELECT count(*) FROM pg_stat_activity WHERE backend_type IN ('client backend', 'walsender')");
    }
}
