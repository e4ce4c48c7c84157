package dev.pgreshard.cli;

import dev.pgreshard.activities.copy.CopySettings;
import dev.pgreshard.activities.copy.TableCopier;
import dev.pgreshard.activities.preflight.Preflight;
import dev.pgreshard.core.config.PgReshardConfig;
import dev.pgreshard.core.pg.PgConnector;
import dev.pgreshard.core.topology.TableName;
import dev.pgreshard.core.topology.Topology;
import dev.pgreshard.workflows.TaskRef;
import dev.pgreshard.workflows.copy.TableCopyResult;
import dev.pgreshard.workflows.preflight.PreflightReport;
import dev.pgreshard.workflows.preflight.PublishedTable;
import dev.pgreshard.workflows.replication.TableStart;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Collectors;

/**
 * {@code pgreshard data-sync SRC DST PUB}: preflight, then every published table copied (largest first,
 * {@code copy_parallelism} tables at a time) with progress bars, then changes replicated in the foreground
 * until Ctrl-C; {@code --sync-only} stops after the copy.
 */
@Command(name = "data-sync", mixinStandardHelpOptions = true, versionProvider = VersionProvider.class,
        description = "Copy the publication's tables to the destination shards, rehashing rows by shard key (run "
        + "schema-sync first), then replicate changes until Ctrl-C (the slot is kept: --replicate-only resumes, "
        + "--drop ends it). --sync-only copies and exits.")
public class DataSyncCommand implements Runnable {
    @Mixin
    ConfigOptions config;

    @Mixin
    TaskArguments args;

    @Option(names = "--sync-only", description = "copy the tables, then exit (no replication)")
    boolean syncOnly;

    @Option(names = "--replicate-only", description = "resume replication of an earlier data-sync (no copy)")
    boolean replicateOnly;

    @Option(names = "--drop", description = "end an earlier data-sync for good: drop its replication slot and "
            + "progress rows")
    boolean drop;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        if ((syncOnly ? 1 : 0) + (replicateOnly ? 1 : 0) + (drop ? 1 : 0) > 1) {
            throw new BadInputException("--sync-only, --replicate-only and --drop exclude each other; pick one");
        }
        PgReshardConfig cfg = config.load();
        PgConnector connector = new PgConnector(cfg);
        TaskRef task = args.task("data-sync");
        PrintWriter out = spec.commandLine().getOut();
        Path stateFile = DataSyncState.file(config.config, args.source, args.destination);
        ForegroundReplication replication = new ForegroundReplication(cfg, connector, task, out);
        if (drop) {
            replication.drop();
            DataSyncState.delete(stateFile);
            out.println("data-sync: dropped the replication slot and progress of " + args.source + " -> " + args.destination);
            out.flush();
            return;
        }
        if (replicateOnly) {
            replication.run(DataSyncState.read(stateFile, args.source, args.destination).tableStarts());
            return;
        }
        TableCopier copier = new TableCopier(cfg, connector);
        List<TableCopyResult> results;
        // the preflight's connections go to the copier, which keeps every connection it opens from table to
        // table until the copy ends (not during replication)
        try (TableCopier.Kept kept = copier.keepConnections()) {
            PreflightReport report = new Preflight(cfg, connector).check(task, copier::adopt);
            if (!syncOnly) {
                replication.createSlots(); // before the copy's snapshots, so the slot holds every later change
            }
            try {
                results = copy(cfg, copier, task, report, out);
            } catch (RuntimeException e) {
                if (!syncOnly) {
                    replication.drop(); // nothing to resume: the copy did not finish
                }
                throw e;
            }
        }
        if (syncOnly) {
            return;
        }
        List<TableStart> starts = results.stream().map(r -> new TableStart(r.table(), r.snapshots())).toList();
        new DataSyncState(args.source, args.destination, args.publication, starts).write(stateFile);
        replication.run(starts);
    }

    private List<TableCopyResult> copy(PgReshardConfig cfg, TableCopier copier, TaskRef task, PreflightReport report,
                                       PrintWriter out) {
        report.warnings().forEach(w -> out.println("warning: " + w));
        int parallelism = CopySettings.parallelism(cfg, Topology.of(cfg).cluster(args.destination));
        out.printf("data-sync: copying %d table(s) from '%s' to '%s', %d at a time%n", report.tables().size(), args.source,
                args.destination, parallelism);
        out.flush();

        Map<TableName, Long> estimates = new HashMap<>();
        report.tables().forEach(t -> estimates.put(t.table(), t.estimatedBytes()));
        ProgressBars bars = new ProgressBars(out, estimates);
        long started = System.nanoTime();
        ExecutorService pool = Executors.newFixedThreadPool(parallelism);
        List<TableCopyResult> results = new ArrayList<>();
        try {
            List<Future<TableCopyResult>> futures = new ArrayList<>();
            for (PublishedTable t : report.tables()) {
                futures.add(pool.submit(() -> {
                    bars.started(t.table());
                    TableCopyResult r = copier.copy(task, t.table(), false, bars);
                    bars.finished(t.table(), r.rows(), r.bytes());
                    return r;
                }));
            }
            for (Future<TableCopyResult> f : futures) {
                results.add(f.get());
            }
        } catch (ExecutionException e) {
            pool.shutdownNow();
            Throwable cause = e.getCause();
            throw cause instanceof RuntimeException re ? re : new IllegalStateException(cause.getMessage(), cause);
        } catch (InterruptedException e) {
            pool.shutdownNow();
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        } finally {
            pool.shutdown();
        }
        double seconds = (System.nanoTime() - started) / 1e9;
        long rows = results.stream().mapToLong(TableCopyResult::rows).sum();
        long bytes = results.stream().mapToLong(TableCopyResult::bytes).sum();
        for (TableCopyResult r : results) {
            out.println("  " + r.table() + ": snapshot LSN " + r.snapshots().stream()
                    .map(s -> s.lsn() + " (source shard " + s.sourceShard() + ")").collect(Collectors.joining(", ")));
        }
        out.printf(Locale.ROOT, "data-sync: copied %d table(s), %d rows, %.1f MB in %.1f s (%.1f MB/s)%n",
                results.size(), rows, bytes / 1e6, seconds, bytes / 1e6 / Math.max(seconds, 0.001));
        out.println("next: pgreshard schema-sync " + args.source + " " + args.destination + " " + args.publication
                + " --phase post   (indexes and constraints), then pgreshard verify " + args.source + " " + args.destination
                + " " + args.publication);
        out.flush();
        return results;
    }
}
