package dev.pgreshard.cli.temporal;

import dev.pgreshard.cli.worker.WorkerCommand;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code pgreshard temporal}: a development Temporal server (the Java test server, in memory). */
@Command(name = "temporal", description = "Run a development Temporal server (in memory: state is lost on exit).")
public class TemporalServerCommand implements Runnable {
    @Option(names = "--port", defaultValue = "7233", description = "gRPC port (default: ${DEFAULT-VALUE})")
    int port;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        EmbeddedTemporal server = EmbeddedTemporal.start(port);
        spec.commandLine().getOut().println("Temporal development server on 127.0.0.1:" + port
                + " (in memory; Ctrl-C stops it). Point workers at it with [temporal] target = \"127.0.0.1:" + port + "\"");
        spec.commandLine().getOut().flush();
        WorkerCommand.awaitShutdown(server::close);
    }
}
