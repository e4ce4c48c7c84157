package dev.pgreshard.cli.temporal;

import dev.pgreshard.cli.worker.WorkerCommand;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code pgreshard temporal}: a development Temporal server (the Java test server, in memory). */
@Command(name = "temporal", mixinStandardHelpOptions = true, description = "Run a development Temporal server (in memory: state is lost on exit).")
public class TemporalServerCommand implements Runnable {
    @Option(names = "--port", defaultValue = "7233", description = "gRPC port (default: ${DEFAULT-VALUE})")
    int port;

    @Option(names = "--bind", defaultValue = EmbeddedTemporal.LOOPBACK, paramLabel = "ADDRESS",
            description = "address to listen on (default: ${DEFAULT-VALUE}, this machine only; the server has no "
                    + "authentication, so 0.0.0.0 opens it to the network)")
    String bind;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        EmbeddedTemporal server = EmbeddedTemporal.start(bind, port);
        String at = (bind.contains(":") ? "[" + bind + "]" : bind) + ":" + port;
        spec.commandLine().getOut().println("Temporal development server on " + at
                + " (in memory; Ctrl-C stops it). Point workers at it with [temporal] target = \"" + at + "\"");
        spec.commandLine().getOut().flush();
        WorkerCommand.awaitShutdown(server::close);
    }
}
