package dev.pgreshard.cli.demo;

import java.io.PrintWriter;
import java.util.List;
import java.util.Locale;

/**
 * What the demo measured, printed at its end. The demo fails (non-zero exit) unless no client
 * transaction failed, no acknowledged write is missing, and verification matched.
 *
 * @param rowsMoved          rows copied to the destination shards (every table)
 * @param bytesCopied        COPY bytes read from the source
 * @param copySeconds        wall time of the COPY phase
 * @param maxLagBytes        worst replication lag seen while replicating (bytes)
 * @param maxLagSeconds      worst replication lag seen while replicating (seconds)
 * @param cutoverLagBytes    lag drained by the cutover while traffic was paused
 * @param cutoverPauseMs     how long the cutover kept the proxy paused
 * @param cutoverCommitMs    the longest commit of any writer around the cutover's pause (a second either side): the
 *                           stall a client felt at the cutover (-1 when unknown)
 * @param longestCommitMs    the longest commit any writer client saw over the whole run (copy and replication included)
 * @param committed          writer transactions acknowledged
 * @param failedTransactions writer transactions that got an error (must be 0)
 * @param missingWrites      acknowledged writes absent or stale on the destination (must be 0)
 * @param verification       per-table verification problems (empty: every table matches)
 * @param problems           the first missing writes and failures, for the reader
 * @param finalPhase         the task's phase at the end (DONE after finalize)
 * @param totalSeconds       the whole demo
 */
record DemoReport(String taskId, long rowsMoved, long bytesCopied, double copySeconds, long maxLagBytes,
                  double maxLagSeconds, long cutoverLagBytes, long cutoverPauseMs, double cutoverCommitMs, double longestCommitMs,
                  long committed, long failedTransactions, long missingWrites, List<String> verification,
                  List<String> problems, String finalPhase, double totalSeconds) {

    boolean passed() {
        return failedTransactions == 0 && missingWrites == 0 && verification.isEmpty() && "DONE".equals(finalPhase);
    }

    void print(PrintWriter out) {
        out.println();
        out.println("==== pgreshard demo report (" + taskId + ") ====");
        line(out, "rows moved", String.format(Locale.ROOT, "%,d rows, %.1f MB", rowsMoved, bytesCopied / 1e6));
        line(out, "copy rate", String.format(Locale.ROOT, "%.1f MB/s (%.1f s copy phase)",
                copySeconds > 0 ? bytesCopied / 1e6 / copySeconds : 0, copySeconds));
        line(out, "replication lag", String.format(Locale.ROOT, "max %s / %.1f s while replicating; %s drained at cutover",
                bytes(maxLagBytes), maxLagSeconds, bytes(cutoverLagBytes)));
        line(out, "cutover pause", cutoverPauseMs + " ms (proxy paused); longest client commit "
                + (cutoverCommitMs < 0 ? "around it unknown" : String.format(Locale.ROOT, "%.0f ms", cutoverCommitMs))
                + String.format(Locale.ROOT, " (whole run: %.0f ms)", longestCommitMs));
        line(out, "writer", String.format(Locale.ROOT, "%,d transactions committed through the proxy", committed));
        line(out, "failed client transactions", failedTransactions + (failedTransactions == 0 ? "" : "   <-- must be 0"));
        line(out, "acknowledged writes missing", missingWrites + (missingWrites == 0 ? "" : "   <-- must be 0"));
        line(out, "verification", verification.isEmpty() ? "every table matches (counts, checksums, placement)"
                : verification.size() + " problem(s): " + verification.get(0));
        line(out, "task", finalPhase);
        line(out, "total time", String.format(Locale.ROOT, "%.0f s", totalSeconds));
        problems.forEach(p -> out.println("  " + p));
        out.println(passed() ? "RESULT: PASS" : "RESULT: FAIL");
        out.flush();
    }

    private static void line(PrintWriter out, String label, String value) {
        out.printf("%-28s %s%n", label + ":", value);
    }

    static String bytes(long n) {
        if (n < 1024) {
            return n + " B";
        }
        return n < 1024 * 1024 ? String.format(Locale.ROOT, "%.1f KiB", n / 1024.0)
                : String.format(Locale.ROOT, "%.1f MiB", n / 1048576.0);
    }
}
