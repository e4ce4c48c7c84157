package dev.pgreshard.activities.preflight;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** The plan as text (the CLI, and the report a refused {@code reshard} prints) and as rows (the admin database). */
public final class PlanText {
    private PlanText() {
    }

    public static String render(PlanReport r) {
        StringBuilder b = new StringBuilder();
        b.append("pgreshard plan: ").append(r.source()).append(" -> ").append(r.destination()).append(", publication ")
                .append(r.publication()).append(" (read-only: nothing was created or changed)\n");
        b.append("\nTables (largest first; rows and sizes are the statistics' estimates; omnisharded = copied whole "
                + "to every shard):\n");
        if (r.tables().isEmpty()) {
            b.append("  (none)\n");
        } else {
            int width = Math.max(5, r.tables().stream().mapToInt(t -> t.table().toString().length()).max().orElse(5));
            String format = "  %-" + width + "s  %12s  %10s  %-24s  %-32s  %s%n";
            b.append(String.format(Locale.ROOT, format, "TABLE", "ROWS", "SIZE", "SHARD KEY", "REPLICA IDENTITY",
                    "ON THE DESTINATION"));
            for (TablePlan t : r.tables()) {
                b.append(String.format(Locale.ROOT, format, t.table(), String.format(Locale.ROOT, "%,d", t.estimatedRows()),
                        size(t.estimatedBytes()), shardKey(t), t.replicaIdentity(), t.onDestination()));
            }
        }
        section(b, "Schema sync will create on every destination shard", r.schemaSync());
        section(b, "Sequences (serial, identity, nextval defaults) the cutover moves forward", r.sequences());
        section(b, "Foreign keys left out (they cannot hold on shards)", r.foreignKeys());
        if (!r.copyEstimate().isEmpty()) {
            b.append("\nEstimated copy time:\n  ").append(r.copyEstimate()).append('\n');
        }
        section(b, "Warnings", r.warnings());
        if (r.blocked()) {
            b.append("\nBlocking problems (").append(r.blockers().size()).append("), each with its fix:\n");
            int n = 1;
            for (Blocker blocker : r.blockers()) {
                b.append("  ").append(n++).append(". ").append(blocker.problem()).append('\n');
                if (!blocker.fix().isEmpty()) {
                    b.append("     fix: ").append(blocker.fix()).append('\n');
                }
            }
            b.append("\nRESULT: BLOCKED (").append(r.blockers().size()).append(" problem")
                    .append(r.blockers().size() == 1 ? "" : "s").append(" to fix before reshard)\n");
        } else {
            b.append("\nRESULT: OK (nothing blocks `reshard ").append(r.source()).append(' ').append(r.destination())
                    .append(' ').append(r.publication()).append("`)\n");
        }
        return b.toString();
    }

    /** Columns {@code section, item, detail}: one row per fact, the last row the result. */
    public static List<List<String>> rows(PlanReport r) {
        List<List<String>> rows = new ArrayList<>();
        for (TablePlan t : r.tables()) {
            rows.add(List.of("table", t.table().toString(), String.format(Locale.ROOT, "%,d rows, %s; shard key %s; "
                    + "replica identity %s; %s", t.estimatedRows(), size(t.estimatedBytes()), shardKey(t),
                    t.replicaIdentity(), t.onDestination())));
        }
        r.schemaSync().forEach(s -> rows.add(List.of("schema sync", "", s)));
        r.sequences().forEach(s -> rows.add(List.of("sequence", "", s)));
        r.foreignKeys().forEach(s -> rows.add(List.of("foreign key skipped", "", s)));
        if (!r.copyEstimate().isEmpty()) {
            rows.add(List.of("copy estimate", "", r.copyEstimate()));
        }
        r.warnings().forEach(w -> rows.add(List.of("warning", "", w)));
        for (Blocker blocker : r.blockers()) {
            rows.add(List.of("blocker", blocker.problem(), blocker.fix()));
        }
        rows.add(List.of("result", r.blocked() ? "BLOCKED" : "OK", r.blocked()
                ? r.blockers().size() + " blocking problem(s)" : "nothing blocks RESHARD"));
        return rows;
    }

    private static String shardKey(TablePlan t) {
        return t.sharded() ? t.shardKey() + " (" + t.keyType() + ")" : "omnisharded";
    }

    private static void section(StringBuilder b, String title, List<String> lines) {
        if (lines.isEmpty()) {
            return;
        }
        b.append('\n').append(title).append(":\n");
        lines.forEach(l -> b.append("  - ").append(l).append('\n'));
    }

    private static String size(long bytes) {
        if (bytes < 1024 * 1024) {
            return String.format(Locale.ROOT, "%.1f kB", bytes / 1024.0);
        }
        if (bytes < 1024L * 1024 * 1024) {
            return String.format(Locale.ROOT, "%.1f MB", bytes / 1048576.0);
        }
        return String.format(Locale.ROOT, "%.1f GB", bytes / 1073741824.0);
    }
}
