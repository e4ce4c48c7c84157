package dev.pgreshard.cli.demo;

import dev.pgreshard.cli.BadInputException;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.PrintWriter;
import java.time.Duration;
import java.util.concurrent.Callable;

/**
 * {@code pgreshard demo}: docs/architecture.md §9. Everything embedded (PostgreSQL from Maven Central, the
 * Temporal test server, worker and proxy in this process), a full online reshard under live
 * traffic, and a report. Exit code 0 only when no client transaction failed, no acknowledged write
 * is missing and every table verifies; nothing is left running or on disk afterwards.
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = "Run a complete online reshard on embedded PostgreSQL under live writes, then report: rows moved, "
                + "copy rate, replication lag, cutover pause, failed client transactions and missing acknowledged "
                + "writes (both must be 0). Needs nothing but a JDK; takes about a minute.")
public class DemoCommand implements Callable<Integer> {
    @Option(names = "--orders", paramLabel = "N", defaultValue = "400000",
            description = "rows in the sample orders table (default: ${DEFAULT-VALUE})")
    long orders;

    @Option(names = "--clients", paramLabel = "N", defaultValue = "8",
            description = "writer connections through the proxy (default: ${DEFAULT-VALUE})")
    int clients;

    @Option(names = "--write-pause-ms", paramLabel = "MS", defaultValue = "10",
            description = "pause of each writer between its transactions (default: ${DEFAULT-VALUE})")
    long writePauseMs;

    @Option(names = "--timeout", paramLabel = "SECONDS", defaultValue = "300",
            description = "give up when the task has not cut over after this long (default: ${DEFAULT-VALUE})")
    long timeoutSeconds;

    @Option(names = "--sandbox",
            description = "start only the servers with the sample data and a config for them, print a fault drill "
                    + "(Temporal, worker and proxy run by hand, each in its own process, to be killed at will) and "
                    + "keep running until Ctrl-C")
    boolean sandbox;

    @Option(names = "--temporal-port", paramLabel = "PORT", defaultValue = "7233",
            description = "with --sandbox: the port of the `pgreshard temporal` the config points at (default: ${DEFAULT-VALUE})")
    int temporalPort;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        atLeast("--orders", orders, 1);
        atLeast("--clients", clients, 1);
        atLeast("--write-pause-ms", writePauseMs, 0);
        atLeast("--timeout", timeoutSeconds, 10);
        PrintWriter out = spec.commandLine().getOut();
        if (sandbox) {
            atLeast("--temporal-port", temporalPort, 1);
            if (temporalPort > 65535) {
                throw new BadInputException("--temporal-port must be a TCP port (1-65535), got " + temporalPort);
            }
            DemoEnvironment env = DemoEnvironment.create(); // closed by the sandbox's shutdown hook
            new DemoSandbox(env, out).runUntilInterrupted(orders, temporalPort);
            return 0;
        }
        DemoRun.Settings settings = new DemoRun.Settings(orders, clients, writePauseMs, Duration.ofSeconds(timeoutSeconds));
        DemoReport report;
        try (DemoEnvironment env = DemoEnvironment.create()) {
            out.println("pgreshard demo: an online reshard of a live multi-tenant database from 1 to 2 shards, "
                    + "everything embedded (temporary files in " + env.dir() + ", removed at the end)");
            out.flush();
            report = new DemoRun(env, settings, out).run();
        }
        report.print(out);
        return report.passed() ? 0 : 1; // 1 = failure, as every command (CliErrors)
    }

    private static void atLeast(String option, long value, long min) {
        if (value < min) {
            throw new BadInputException(option + " must be at least " + min + ", got " + value);
        }
    }
}
