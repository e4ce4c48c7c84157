package dev.pgreshard.cli.task;

import dev.pgreshard.cli.ConfigOptions;
import dev.pgreshard.core.config.PgReshardConfig;
import io.micronaut.context.ApplicationContext;
import io.temporal.client.WorkflowClient;
import picocli.CommandLine;
import picocli.CommandLine.Mixin;

import java.io.PrintWriter;
import java.util.function.Supplier;

/** Base of the commands that talk to Temporal: loads the config and hands out the client beans. */
public abstract class TemporalCommand implements Runnable {
    @Mixin
    protected ConfigOptions configOptions;

    @CommandLine.Spec
    protected CommandLine.Model.CommandSpec spec;

    private Supplier<ApplicationContext> contexts = () -> {
        throw new IllegalStateException(getClass().getSimpleName() + " was created without a Micronaut context");
    };

    private PgReshardConfig config;

    /** Where this command gets its Micronaut context from, once it needs one (started on first use). */
    public void contextFrom(Supplier<ApplicationContext> contexts) {
        this.contexts = contexts;
    }

    protected ApplicationContext context() {
        return contexts.get();
    }

    protected PgReshardConfig config() {
        if (config == null) {
            config = adjust(configOptions.load());
            context().registerSingleton(PgReshardConfig.class, config);
        }
        return config;
    }

    /** A command's own overrides of the loaded config (e.g. {@code run --port}); none by default. */
    protected PgReshardConfig adjust(PgReshardConfig loaded) {
        return loaded;
    }

    protected WorkflowClient client() {
        config();
        return context().getBean(WorkflowClient.class);
    }

    protected PrintWriter out() {
        return spec.commandLine().getOut();
    }
}
