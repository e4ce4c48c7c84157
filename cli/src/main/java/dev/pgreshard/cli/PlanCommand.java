package dev.pgreshard.cli;

import dev.pgreshard.activities.preflight.PlanReport;
import dev.pgreshard.activities.preflight.PlanText;
import dev.pgreshard.activities.preflight.Preflight;
import dev.pgreshard.core.config.PgReshardConfig;
import dev.pgreshard.core.pg.PgConnector;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.util.concurrent.Callable;

/**
 * {@code pgreshard plan SRC DST PUB}: the dry run of {@code reshard}. Every preflight check, changing
 * nothing, and a report of what the task would do; exit 0 when nothing blocks, 1 otherwise.
 */
@Command(name = "plan", mixinStandardHelpOptions = true, versionProvider = VersionProvider.class,
        description = "Dry run of reshard: run every preflight check without changing anything and report the tables "
                + "(size, rows, shard key, replica identity), what schema sync will create, the sequences the cutover "
                + "moves, the foreign keys left out, the privileges missing, an estimated copy time, and each blocking "
                + "problem with the SQL that fixes it. Exit 0 when nothing blocks, 1 otherwise.")
public class PlanCommand implements Callable<Integer> {
    @Mixin
    ConfigOptions config;

    @Mixin
    TaskArguments args;

    @Option(names = "--no-sample", description = "skip the few-second read of the largest table that estimates the copy time")
    boolean noSample;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        PgReshardConfig cfg = config.load();
        PlanReport report = new Preflight(cfg, new PgConnector(cfg)).plan(args.task("plan"), !noSample);
        spec.commandLine().getOut().print(PlanText.render(report));
        spec.commandLine().getOut().flush();
        if (report.blocked()) {
            spec.commandLine().getErr().println("pgreshard: plan found " + report.blockers().size()
                    + " blocking problem(s); the report above gives each one's fix");
            spec.commandLine().getErr().flush();
            return CliErrors.FAILED;
        }
        return 0;
    }
}
