package dev.pgreshard.cli.worker;

import dev.pgreshard.cli.ProxyAddressOptions;
import dev.pgreshard.cli.ProxyHost;
import dev.pgreshard.cli.task.TaskService;
import dev.pgreshard.cli.task.TemporalCommand;
import dev.pgreshard.cli.task.WorkflowTaskCommands;
import dev.pgreshard.cli.temporal.EmbeddedTemporal;
import dev.pgreshard.cli.temporal.TemporalFactory;
import dev.pgreshard.proxy.ProxyOptions;
import dev.pgreshard.core.config.PgReshardConfig;
import io.temporal.client.WorkflowClient;
import io.temporal.worker.WorkerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

import java.time.Duration;

/**
 * {@code pgreshard run}: the worker and the proxy in one JVM (the single-node default); the proxy's
 * admin database serves the task commands through this process's workflow client.
 */
@Command(name = "run", mixinStandardHelpOptions = true, description = "Run the worker and the proxy in one process (admin task commands included); "
        + "--host/--port/--control-port override [general].")
public class RunCommand extends TemporalCommand {
    @Mixin
    ProxyAddressOptions address;

    @Override
    protected PgReshardConfig adjust(PgReshardConfig loaded) {
        return address.apply(loaded);
    }

    @Override
    public void run() {
        config().requireAdmin();
        EmbeddedTemporal embedded = config().temporal().isEmbedded()
                ? EmbeddedTemporal.start(config().temporal().embeddedPort()) : null;
        if (embedded == null) {
            TemporalFactory.awaitReachable(config().temporal(), Duration.ofMinutes(2));
        }
        WorkerHost host = WorkerHost.start(context().getBean(WorkerFactory.class), config());
        TaskService tasks = new TaskService(config(), context().getBean(WorkflowClient.class));
        ProxyHost proxy = ProxyHost.start(config(), ProxyOptions.DEFAULTS);
        proxy.server().bindTaskCommands(new WorkflowTaskCommands(config(), tasks));
        out().println("pgreshard running: proxy on " + config().general().host() + ":" + proxy.server().port() + " (admin database '"
                + config().admin().name() + "'), worker on task queue '" + config().temporal().taskQueue() + "' ("
                + config().temporal().address() + "); Ctrl-C stops it");
        out().flush();
        WorkerCommand.awaitShutdown(() -> {
            proxy.close();
            host.close();
            tasks.close();
            if (embedded != null) {
                embedded.close();
            }
        });
    }
}
