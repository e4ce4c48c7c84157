package dev.pgreshard.cli;

import dev.pgreshard.cli.demo.DemoCommand;
import dev.pgreshard.cli.task.TaskCommands;
import dev.pgreshard.cli.temporal.TemporalServerCommand;
import dev.pgreshard.cli.worker.RunCommand;
import dev.pgreshard.cli.worker.WorkerCommand;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;

import java.io.PrintWriter;
import picocli.CommandLine.Command;

/**
 * The {@code pgreshard} command line. The commands that talk to Temporal get its client beans from a
 * Micronaut context that {@link CommandFactory} starts only when one of them needs it.
 */
@Command(name = "pgreshard",
        description = "Online PostgreSQL resharding: copy, replicate and cut over to a new set of shards.",
        mixinStandardHelpOptions = true,
        versionProvider = VersionProvider.class)
public class PgReshardCommand implements Runnable {
    /**
     * The subcommands, in the order help lists them. Not in the annotation: picocli would build the model of
     * every one of them (their options, mixins, converters) before running any: 69 % of the main thread's CPU in
     * {@code data-sync --help} (async-profiler, 2026-12-03; ≈ 0.1 CPU-s saved per command measured); {@link #newCommandLine}
     * adds only the one asked for.
     */
    static final java.util.List<Class<?>> SUBCOMMANDS = java.util.List.of(
            DemoCommand.class, RunCommand.class, WorkerCommand.class, ProxyCommand.class, TemporalServerCommand.class,
            PlanCommand.class, TaskCommands.Reshard.class, TaskCommands.Tasks.class, TaskCommands.Status.class, TaskCommands.Stop.class,
            TaskCommands.Cutover.class, TaskCommands.Rollback.class, TaskCommands.Finalize.class,
            SchemaSyncCommand.class, DataSyncCommand.class, VerifyCommand.class,
            ShardCommand.class, RecoverPreparedCommand.class, CommandLine.HelpCommand.class);

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    public static void main(String[] args) {
        System.exit(execute(args));
    }

    /** Runs one command line and returns its exit code (0 ok, 1 failure, 2 bad input). */
    public static int execute(String... args) {
        return execute(new PrintWriter(System.out, true), new PrintWriter(System.err, true), args);
    }

    /** Runs one command line with the given output streams (tests capture them). */
    public static int execute(PrintWriter out, PrintWriter err, String... args) {
        try (CommandFactory factory = new CommandFactory()) {
            CommandLine cl = newCommandLine(factory, args);
            cl.setOut(out);
            cl.setErr(err);
            return cl.execute(args);
        }
    }

    /**
     * The command line for {@code args}: the root command with the subcommand {@code args} names, or with all
     * of them when the first argument names none (help, an option, a mistyped name: picocli then lists or
     * suggests from all).
     */
    static CommandLine newCommandLine(CommandLine.IFactory factory, String... args) {
        // logback reads its configuration (0.15 s of a cold JVM's start, async-profiler 2026-12-03) while picocli
        // builds its model, which logs nothing; CliErrors' logger is the first one taken, after the join
        Thread logging = new Thread(LoggerFactory::getILoggerFactory, "pgreshard-logging-init");
        logging.setDaemon(true);
        logging.start();
        CommandLine cl = new CommandLine(PgReshardCommand.class, factory);
        Class<?> asked = args.length == 0 ? null : subcommandNamed(args[0]);
        for (Class<?> subcommand : asked != null ? java.util.List.<Class<?>>of(asked) : SUBCOMMANDS) {
            cl.addSubcommand(subcommand);
        }
        try {
            logging.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        CliErrors errors = new CliErrors();
        cl.setExecutionExceptionHandler(errors);
        cl.setParameterExceptionHandler(errors);
        return cl;
    }

    /** The subcommand whose name or alias is {@code word}; null for none (and for {@code help}, which needs them all). */
    static Class<?> subcommandNamed(String word) {
        for (Class<?> subcommand : SUBCOMMANDS) {
            Command command = subcommand.getAnnotation(Command.class);
            if (subcommand != CommandLine.HelpCommand.class
                    && (command.name().equals(word) || java.util.Arrays.asList(command.aliases()).contains(word))) {
                return subcommand;
            }
        }
        return null;
    }

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }
}
