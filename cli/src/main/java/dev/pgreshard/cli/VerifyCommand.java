package dev.pgreshard.cli;

import dev.pgreshard.activities.verify.Verifier;
import dev.pgreshard.core.config.PgReshardConfig;
import dev.pgreshard.core.pg.PgConnector;
import dev.pgreshard.workflows.TaskRef;
import dev.pgreshard.workflows.verify.TableVerification;
import dev.pgreshard.workflows.verify.VerifyReport;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

import java.io.PrintWriter;
import java.util.concurrent.Callable;

/** {@code pgreshard verify SRC DST PUB}: a table of counts, checksums and placement; exit 1 on any mismatch. */
@Command(name = "verify", mixinStandardHelpOptions = true, versionProvider = VersionProvider.class,
        description = "Compare row counts, checksums and shard placement of every published table "
        + "between the source and the destination shards; exit 1 on any mismatch.")
public class VerifyCommand implements Callable<Integer> {
    @Mixin
    ConfigOptions config;

    @Mixin
    TaskArguments args;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        PgReshardConfig cfg = config.load();
        TaskRef task = args.task("verify");
        VerifyReport report = new Verifier(cfg, new PgConnector(cfg)).verify(task);
        PrintWriter out = spec.commandLine().getOut();
        int width = Math.max(5, report.tables().stream().mapToInt(t -> t.table().toString().length()).max().orElse(5));
        String format = "%-" + width + "s  %12s  %12s  %10s  %s%n";
        out.printf(format, "table", "source rows", "dest rows", "misplaced", "result");
        int problems = 0;
        for (TableVerification t : report.tables()) {
            out.printf(format, t.table(), t.sourceRows(), t.destinationRows(), t.misplacedRows(),
                    t.ok() ? "ok" : "MISMATCH");
            problems += t.problems().size();
        }
        for (TableVerification t : report.tables()) {
            t.problems().forEach(p -> out.println("  " + p));
        }
        out.flush();
        if (!report.ok()) {
            String first = report.tables().stream().flatMap(t -> t.problems().stream()).findFirst().orElse("");
            spec.commandLine().getErr().println("pgreshard: verification failed: " + problems + " problem(s); " + first);
            spec.commandLine().getErr().flush();
            return CliErrors.FAILED;
        }
        return 0;
    }
}
