package dev.pgreshard.cli.task;

import dev.pgreshard.workflows.reshard.ActivityProblem;
import dev.pgreshard.workflows.reshard.CutoverAttempt;
import dev.pgreshard.workflows.reshard.ReshardStatus;
import dev.pgreshard.workflows.reshard.TableProgress;

import java.io.PrintWriter;
import java.util.List;

/** `pgreshard status` output: {@code phase: <PHASE>} first, then what an operator checks at a glance. */
public final class StatusPrinter {
    private StatusPrinter() {
    }

    public static void print(ReshardStatus s, PrintWriter out) {
        print(s, List.of(), out);
    }

    /** @param traffic where the traffic is and whether rollback is possible ({@link TaskService#traffic}) */
    public static void print(ReshardStatus s, List<String> traffic, PrintWriter out) {
        out.println("phase: " + s.phase());
        out.println("state: " + s.state());
        out.println("task: " + s.taskId() + "  (" + s.source() + " -> " + s.destination() + ", publication "
                + s.publication() + (s.manualCutover() ? ", manual cutover" : ", automatic cutover") + ")");
        traffic.forEach(out::println);
        if (!s.tables().isEmpty()) {
            out.println(copySummary(s));
            out.println("tables:");
            for (TableProgress t : s.tables()) {
                out.printf("  %-40s %-8s %12d rows %10s %10s/s%s%n", t.table(), t.state(), t.rows(), bytes(t.bytes()),
                        bytes(t.bytesPerSecond()), t.workers().isEmpty() ? "" : "  by " + t.workers());
            }
        }
        out.printf("replication lag: %s, %.1f s%s%n", bytes(s.lagBytes()), s.lagSeconds(),
                s.lagCheckedAt().isEmpty() ? " (not measured yet)" : " (at " + s.lagCheckedAt() + ")");
        if (!s.cutoverAttempts().isEmpty()) {
            out.println("cutover attempts:");
            for (CutoverAttempt a : s.cutoverAttempts()) {
                if (a.inProgress()) {
                    out.printf("  %-8s %s  in progress (what it waits for is listed under failing)%n", a.kind(),
                            a.startedAt());
                    continue;
                }
                out.printf("  %-8s %s  %s  pause %d ms, lag drained %s%s%n", a.kind(), a.startedAt(),
                        a.swapped() ? "swapped" : "NOT swapped", a.pauseMs(), bytes(a.lagBytes()),
                        a.reason().isEmpty() ? "" : "  (" + a.reason() + ")");
            }
        }
        for (ActivityProblem p : s.failing()) {
            out.println("failing: " + p.activity() + (p.subject().isEmpty() ? "" : " (" + p.subject() + ")") + ", "
                    + p.attempts() + (p.attempts() == 1 ? " attempt" : " attempts") + " since " + p.since() + ": "
                    + p.error());
        }
        s.warnings().forEach(w -> out.println("warning: " + w));
        if (!s.error().isEmpty()) {
            out.println("error: " + s.error());
        }
        String next = nextStep(s);
        if (!next.isEmpty()) {
            out.println("next: " + next);
        }
        out.flush();
    }

    /** One line: tables copied of all, rows and bytes so far. */
    static String copySummary(ReshardStatus s) {
        long copied = s.tables().stream().filter(t -> TableProgress.COPIED.equals(t.state())).count();
        long rows = s.tables().stream().mapToLong(TableProgress::rows).sum();
        long bytes = s.tables().stream().mapToLong(TableProgress::bytes).sum();
        return String.format("copy: %d/%d tables copied, %d rows written to the shards, %s read", copied,
                s.tables().size(), rows, bytes(bytes));
    }

    /** What the operator can do now, as the command to type. */
    static String nextStep(ReshardStatus s) {
        String id = s.taskId();
        return switch (s.state()) {
            case WAITING_FOR_CUTOVER -> "`pgreshard cutover " + id + "` when replication lag is low (or `pgreshard stop "
                    + id + "` to abandon)";
            case WAITING_FOR_FINALIZE -> "traffic is on " + s.destination() + "; `pgreshard finalize " + id
                    + "` to keep it there, or `pgreshard rollback " + id + "` to return to " + s.source();
            case RUNNING -> s.phase() == dev.pgreshard.workflows.reshard.Phase.REPLICATING && !s.manualCutover()
                    ? "automatic cutover once lag is under [general] cutover_lag_threshold_bytes" : "";
            case FAILED -> "fix the cause above, then start again with `pgreshard reshard " + s.source() + " "
                    + s.destination() + " " + s.publication() + "`";
            default -> "";
        };
    }

    /** The copy activities running now: which worker copies which table or key range, at what rate. */
    public static void printCopies(List<CopiesInFlight.Copy> copies, PrintWriter out) {
        if (copies.isEmpty()) {
            return;
        }
        out.println("copies running:");
        for (CopiesInFlight.Copy c : copies) {
            out.printf("  %-40s %-7s on %-24s attempt %d %12d rows %10s %10s/s%n", c.table(),
                    c.range().isEmpty() ? "whole" : "range " + c.range(), c.worker(), c.attempt(), c.rows(), bytes(c.bytes()),
                    bytes(c.bytesPerSecond()));
        }
    }

    static String bytes(long n) {
        if (n < 1024) {
            return n + " B";
        }
        String[] units = {"KiB", "MiB", "GiB", "TiB"};
        double v = n;
        int u = -1;
        while (v >= 1024 && u < units.length - 1) {
            v /= 1024;
            u++;
        }
        return String.format("%.1f %s", v, units[u]);
    }
}
