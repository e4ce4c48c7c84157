package dev.pgreshard.cli.temporal;

import dev.pgreshard.core.config.PgReshardConfig;
import dev.pgreshard.core.config.TemporalConfig;
import io.micronaut.context.annotation.Bean;
import io.micronaut.context.annotation.Factory;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowClientOptions;
import io.temporal.serviceclient.WorkflowServiceStubs;
import io.temporal.serviceclient.WorkflowServiceStubsOptions;
import io.temporal.worker.WorkerFactory;
import jakarta.inject.Singleton;

import java.time.Duration;

/**
 * Temporal client beans for the configuration a command loaded (registered in the context as a
 * {@link PgReshardConfig} singleton before the first of these is asked for).
 */
@Factory
public class TemporalFactory {

    @Singleton
    @Bean(preDestroy = "shutdown")
    WorkflowServiceStubs serviceStubs(PgReshardConfig config) {
        TemporalConfig t = config.temporal();
        WorkflowServiceStubsOptions options = WorkflowServiceStubsOptions.newBuilder().setTarget(t.address()).build();
        try {
            return WorkflowServiceStubs.newConnectedServiceStubs(options, Duration.ofSeconds(10));
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
        return WorkerFactory.newInstance(client);
    }
}
