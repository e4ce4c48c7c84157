package dev.pgreshard.cli.worker;

import dev.pgreshard.cli.task.TemporalCommand;
import dev.pgreshard.cli.temporal.EmbeddedTemporal;
import dev.pgreshard.cli.temporal.TemporalFactory;
import io.temporal.worker.WorkerFactory;
import io.micronaut.context.annotation.Prototype;
import picocli.CommandLine.Command;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;

/** {@code pgreshard worker}: the Temporal worker, until SIGTERM/SIGINT. */
@Prototype
@Command(name = "worker", description = "Run the Temporal worker (ReshardWorkflow and all activities).")
public class WorkerCommand extends TemporalCommand {
    @Override
    public void run() {
        EmbeddedTemporal embedded = config().temporal().isEmbedded()
                ? EmbeddedTemporal.start(config().temporal().embeddedPort()) : null;
        if (embedded == null) {
            TemporalFactory.awaitReachable(config().temporal(), Duration.ofMinutes(2));
        }
        WorkerHost host = WorkerHost.start(context.getBean(WorkerFactory.class), config());
        out().println("pgreshard worker running on task queue '" + config().temporal().taskQueue() + "' ("
                + config().temporal().address() + "); Ctrl-C stops it");
        out().flush();
        awaitShutdown(() -> {
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
