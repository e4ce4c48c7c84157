package dev.pgreshard.cli;

import dev.pgreshard.cli.task.TemporalCommand;
import io.micronaut.context.ApplicationContext;
import io.micronaut.context.env.Environment;
import picocli.CommandLine;

/**
 * Creates picocli's command objects. Only the commands that talk to Temporal ({@link TemporalCommand}:
 * the worker, {@code run} and the task commands) use Micronaut, for the client beans of
 * {@code TemporalFactory}; starting its ApplicationContext costs about 2 s of CPU (it reads every bean
 * definition on the class path), and picocli creates every subcommand object up front. So the context
 * starts when such a command first asks for it, never for {@code data-sync}, {@code schema-sync},
 * {@code verify}, {@code plan} or {@code --version}.
 */
final class CommandFactory implements CommandLine.IFactory, AutoCloseable {
    private ApplicationContext context;

    @Override
    public <K> K create(Class<K> cls) throws Exception {
        K made = CommandLine.defaultFactory().create(cls);
        if (made instanceof TemporalCommand command) {
            command.contextFrom(this::context);
        }
        return made;
    }

    private synchronized ApplicationContext context() {
        if (context == null) {
            context = ApplicationContext.builder(PgReshardCommand.class, Environment.CLI).deduceEnvironment(false)
                    .banner(false).start();
        }
        return context;
    }

    @Override
    public synchronized void close() {
        if (context != null) {
            context.close();
        }
    }
}
