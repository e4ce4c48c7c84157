package dev.pgreshard.cli;

import dev.pgreshard.activities.schema.SchemaPhase;
import dev.pgreshard.activities.schema.SchemaPlan;
import dev.pgreshard.activities.schema.SchemaSync;
import dev.pgreshard.core.config.PgReshardConfig;
import dev.pgreshard.core.pg.PgConnector;
import dev.pgreshard.workflows.TaskRef;
import dev.pgreshard.workflows.schema.SchemaSyncResult;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.PrintWriter;
import java.util.concurrent.Callable;

/** {@code pgreshard schema-sync SRC DST PUB [--phase pre|post] [--dry-run]}, in the foreground. */
@Command(name = "schema-sync", mixinStandardHelpOptions = true, versionProvider = VersionProvider.class,
        description = "Create the publication's tables (pre: tables, sequences, types; "
        + "post: indexes, constraints) on every destination shard. Idempotent.")
public class SchemaSyncCommand implements Callable<Integer> {
    @Mixin
    ConfigOptions config;

    @Mixin
    TaskArguments args;

    @Option(names = "--phase", paramLabel = "pre|post", defaultValue = "pre",
            description = "pre: before the copy (default); post: after it")
    String phase;

    @Option(names = "--dry-run", description = "print the DDL instead of applying it")
    boolean dryRun;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        SchemaPhase p;
        try {
            p = SchemaPhase.parse(phase);
        } catch (IllegalArgumentException e) {
            throw new BadInputException("--phase " + e.getMessage() + "; use --phase pre or --phase post");
        }
        PgReshardConfig cfg = config.load();
        TaskRef task = args.task("schema-sync");
        SchemaSync sync = new SchemaSync(cfg, new PgConnector(cfg));
        SchemaPlan plan = sync.plan(task, p);
        PrintWriter out = spec.commandLine().getOut();
        if (dryRun) {
            out.print(plan.script());
            plan.warnings().forEach(w -> out.println("-- warning: " + w));
            out.flush();
            return 0;
        }
        SchemaSyncResult result = sync.apply(task, plan);
        result.warnings().forEach(w -> out.println("warning: " + w));
        out.println("schema-sync " + p.section() + ": " + result.statementsApplied()
                + " statement(s) applied on each of the shards of '" + args.destination + "'"
                + (result.statementsApplied() == 0 ? " (already in place)" : ""));
        out.flush();
        return 0;
    }
}
