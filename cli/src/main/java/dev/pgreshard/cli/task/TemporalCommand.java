package dev.pgreshard.cli.task;

import dev.pgreshard.cli.ConfigOptions;
import dev.pgreshard.core.config.PgReshardConfig;
import io.micronaut.context.ApplicationContext;
import io.temporal.client.WorkflowClient;
import jakarta.inject.Inject;
import picocli.CommandLine;
import picocli.CommandLine.Mixin;

import java.io.PrintWriter;

/** Base of the commands that talk to Temporal: loads the config and hands out the client beans. */
public abstract class TemporalCommand implements Runnable {
    @Mixin
    protected ConfigOptions configOptions;

    @CommandLine.Spec
    protected CommandLine.Model.CommandSpec spec;

    @Inject
    protected ApplicationContext context;

    private PgReshardConfig config;

    protected PgReshardConfig config() {
        if (config == null) {
            config = adjust(configOptions.load());
            context.registerSingleton(PgReshardConfig.class, config);
        }
        return config;
    }

    /** A command's own overrides of the loaded config (e.g. {@code run --port}); none by default. */
    protected PgReshardConfig adjust(PgReshardConfig loaded) {
        return loaded;
    }

    protected WorkflowClient client() {
        config();
        return context.getBean(WorkflowClient.class);
    }

    protected PrintWriter out() {
        return spec.commandLine().getOut();
    }
}
