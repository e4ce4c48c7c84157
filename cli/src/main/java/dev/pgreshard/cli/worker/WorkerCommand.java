package dev.pgreshard.cli.worker;

import dev.pgreshard.cli.task.TemporalCommand;
import dev.pgreshard.cli.temporal.EmbeddedTemporal;
import dev.pgreshard.cli.temporal.TemporalFactory;
import io.temporal.worker.WorkerFactory;
import dev.pgreshard.cli.BadInputException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;

/** {@code pgreshard worker}: the Temporal worker, until SIGTERM/SIGINT. */
@Command(name = "worker", mixinStandardHelpOptions = true, description = "Run the Temporal worker (ReshardWorkflow and all activities).")
public class WorkerCommand extends TemporalCommand {
    @Option(names = "--metrics-port", paramLabel = "PORT", defaultValue = "0",
            description = "serve GET /metrics (Prometheus) on [general] control_bind:PORT; 0 = off (default). "
                    + "Under `run` the proxy's control port serves them.")
    int metricsPort;

    @Override
    public void run() {
        if (metricsPort < 0 || metricsPort > 65535) {
            throw new BadInputException("--metrics-port must be 0 (off) or a TCP port, got " + metricsPort);
        }
        EmbeddedTemporal embedded = config().temporal().isEmbedded()
                ? EmbeddedTemporal.start(config().temporal().embeddedPort()) : null;
        if (embedded == null) {
            TemporalFactory.awaitReachable(config().temporal(), Duration.ofMinutes(2));
        }
        WorkerHost host = WorkerHost.start(context().getBean(WorkerFactory.class), config());
        MetricsServer metrics = metricsPort == 0 ? null : MetricsServer.start(config().general().controlBind(), metricsPort);
        out().println("pgreshard worker running on task queue '" + config().temporal().taskQueue() + "' ("
                + config().temporal().address() + ")" + (metrics == null ? "" : ", metrics on "
                + config().general().controlBind() + ":" + metrics.port() + "/metrics") + "; Ctrl-C stops it");
        out().flush();
        awaitShutdown(() -> {
            if (metrics != null) {
                metrics.close();
            }
            host.close();
            if (embedded != null) {
                embedded.close();
            }
        });
    }

    /** Blocks until the JVM is asked to exit, then runs {@code cleanup} from the shutdown hook. */
    public static void awaitShutdown(Runnable cleanup) {
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                cleanup.run();
            } finally {
                stopped.countDown();
            }
        }, "pgreshard-shutdown"));
        try {
            stopped.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
