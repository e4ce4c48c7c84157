package dev.pgreshard.cli.temporal;

import dev.pgreshard.activities.support.TaskLogContext;
import dev.pgreshard.core.config.PgReshardConfig;
import dev.pgreshard.core.config.TemporalConfig;
import io.micronaut.context.annotation.Bean;
import io.micronaut.context.annotation.Factory;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowClientOptions;
import io.temporal.serviceclient.WorkflowServiceStubs;
import io.temporal.serviceclient.WorkflowServiceStubsOptions;
import io.temporal.worker.WorkerFactory;
import io.temporal.worker.WorkerFactoryOptions;
import jakarta.inject.Singleton;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;

/**
 * Temporal client beans for the configuration a command loaded (registered in the context as a
 * {@link PgReshardConfig} singleton before the first of these is asked for).
 */
@Factory
public class TemporalFactory {
    private static final Logger LOG = LoggerFactory.getLogger(TemporalFactory.class);


    /**
     * Waits until something accepts TCP connections at the Temporal address (a worker started next to
     * a Temporal server that is still booting, as under docker compose, waits instead of failing).
     */
    public static void awaitReachable(TemporalConfig t, Duration timeout) {
        String[] hostPort = t.address().split(":(?=\\d+$)");
        long deadline = System.nanoTime() + timeout.toNanos();
        long nextLog = 0;
        while (true) {
            try (java.net.Socket s = new java.net.Socket()) {
                s.connect(new java.net.InetSocketAddress(hostPort[0], Integer.parseInt(hostPort[1])), 1000);
                return;
            } catch (java.io.IOException notYet) {
                if (System.nanoTime() > deadline) {
                    return; // serviceStubs() reports the failure with its hint
                }
                if (System.nanoTime() > nextLog) {
                    LOG.warn("waiting for Temporal at {} ...", t.address());
                    nextLog = System.nanoTime() + Duration.ofSeconds(10).toNanos();
                }
                try {
                    Thread.sleep(500);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
        }
    }

    /**
     * Stubs that connect on first use (a standalone proxy must serve traffic while Temporal is down;
     * its task commands then fail with Temporal's reason, not the proxy's start).
     */
    public static WorkflowServiceStubs lazyStubs(TemporalConfig t) {
        return WorkflowServiceStubs.newServiceStubs(WorkflowServiceStubsOptions.newBuilder().setTarget(t.address()).build());
    }

    @Singleton
    @Bean(preDestroy = "shutdown")
    WorkflowServiceStubs serviceStubs(PgReshardConfig config) {
        TemporalConfig t = config.temporal();
        WorkflowServiceStubsOptions options = WorkflowServiceStubsOptions.newBuilder().setTarget(t.address()).build();
        try {
            return WorkflowServiceStubs.newConnectedServiceStubs(options, Duration.ofSeconds(30));
        } catch (RuntimeException e) {
            String hint = t.isEmbedded()
                    ? "[temporal] target is \"embedded\": start `pgreshard run` or `pgreshard worker` (which serve it on "
                    + "port " + t.embeddedPort() + ") first"
                    : "check [temporal] target and that the Temporal server is up";
            throw new IllegalStateException("cannot reach Temporal at " + t.address() + "; " + hint, e);
        }
    }

    @Singleton
    WorkflowClient workflowClient(WorkflowServiceStubs stubs, PgReshardConfig config) {
        return WorkflowClient.newInstance(stubs,
                WorkflowClientOptions.newBuilder().setNamespace(config.temporal().namespace()).build());
    }

    @Singleton
    @Bean(preDestroy = "shutdown")
    WorkerFactory workerFactory(WorkflowClient client) {
        // every activity and workflow logs with its task id in the MDC ("task")
        return WorkerFactory.newInstance(client,
                WorkerFactoryOptions.newBuilder().setWorkerInterceptors(new TaskLogContext()).build());
    }
}
