package dev.pgreshard.cli;

import dev.pgreshard.activities.copy.CopyListener;
import dev.pgreshard.core.topology.TableName;

import java.io.PrintWriter;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Progress of the foreground copy: one bar per table, each refreshed at most every two seconds. Plain
 * lines (no cursor movement), so the output reads the same in a terminal, a log file or a CI job.
 * The percentage is against pg_table_size, an estimate (COPY bytes differ from on-disk bytes), so
 * it stops at 99% until the table is done.
 */
public final class ProgressBars implements CopyListener {
    private static final int WIDTH = 24;
    private final PrintWriter out;
    private final Map<TableName, Long> estimatedBytes;
    private final Map<TableName, Long> started = new ConcurrentHashMap<>();
    private final Map<TableName, Long> lastPrint = new ConcurrentHashMap<>();

    public ProgressBars(PrintWriter out, Map<TableName, Long> estimatedBytes) {
        this.out = out;
        this.estimatedBytes = estimatedBytes;
    }

    public void started(TableName table) {
        started.put(table, System.nanoTime());
    }

    @Override
    public synchronized void progress(TableName table, long rows, long bytes) {
        long now = System.nanoTime();
        if (bytes == 0 || now - lastPrint.getOrDefault(table, started.getOrDefault(table, now)) < 2_000_000_000L) {
            return;
        }
        lastPrint.put(table, now);
        out.println(line(table, rows, bytes, false));
        out.flush();
    }

    public synchronized void finished(TableName table, long rows, long bytes) {
        out.println(line(table, rows, bytes, true));
        out.flush();
    }

    private String line(TableName table, long rows, long bytes, boolean done) {
        long estimate = Math.max(1, estimatedBytes.getOrDefault(table, 1L));
        int pct = done ? 100 : (int) Math.min(99, bytes * 100 / estimate);
        int filled = pct * WIDTH / 100;
        double seconds = Math.max(0.001, (System.nanoTime() - started.getOrDefault(table, System.nanoTime())) / 1e9);
        return String.format(Locale.ROOT, "%-30s [%s%s] %3d%%  %,12d rows  %9.1f MB  %7.1f MB/s%s", table,
                "#".repeat(filled), ".".repeat(WIDTH - filled), pct, rows, bytes / 1e6, bytes / 1e6 / seconds,
                done ? "  done" : "");
    }
}
