package dev.pgreshard.activities.control;

import dev.pgreshard.core.config.ControlConfig;
import dev.pgreshard.core.config.ConfigException;
import io.micronaut.context.ApplicationContext;
import io.micronaut.context.exceptions.BeanInstantiationException;

import java.sql.SQLException;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;

/**
 * The control store database ({@code [control]}): its own small Micronaut context with one Hikari
 * data source, migrated by Flyway on open, so every process that opens it sees the current schema.
 */
public final class ControlStore implements AutoCloseable {
    private final ApplicationContext context;
    private final ControlConfig control;
    private final TaskRepository tasks;

    private ControlStore(ApplicationContext context, ControlConfig control) {
        this.context = context;
        this.control = control;
        this.tasks = context.getBean(TaskRepository.class);
    }

    /** The {@link SwitchLock} of {@code database}; empty when another switch still holds it after {@code wait}. */
    public Optional<SwitchLock> lockSwitch(String database, Duration wait, Runnable whileWaiting) throws SQLException {
        return SwitchLock.acquire(control, database, wait, whileWaiting);
    }

    public ProxyRepository proxies() {
        return context.getBean(ProxyRepository.class);
    }

    public RouteRepository routes() {
        return context.getBean(RouteRepository.class);
    }

    /** The commit decisions of the proxies' two-phase commits. */
    public DecisionRepository decisions() {
        return context.getBean(DecisionRepository.class);
    }

    /**
     * A writer of commit decisions in batches, on a connection of its own (the proxies' group commit of
     * two-phase commits); the caller closes it.
     */
    public DecisionWriter decisionWriter() {
        return new DecisionWriter(control);
    }

    public CutoverAuditRepository cutovers() {
        return context.getBean(CutoverAuditRepository.class);
    }

    public static ControlStore open(ControlConfig control) {
        Map<String, Object> properties = Map.of(
                "datasources.default.url", control.url(),
                "datasources.default.username", control.user(),
                "datasources.default.password", control.password().reveal(),
                "datasources.default.driver-class-name", "org.postgresql.Driver",
                "datasources.default.dialect", "POSTGRES",
                "datasources.default.maximum-pool-size", 4,
                "datasources.default.connection-timeout", 10_000,
                "flyway.datasources.default.enabled", true,
                "flyway.datasources.default.locations", "classpath:db/control",
                "flyway.datasources.default.table", "pgreshard_schema_history");
        ApplicationContext context = ApplicationContext.builder().properties(properties).deduceEnvironment(false)
                .banner(false).build();
        try {
            context.start();
            return new ControlStore(context, control);
        } catch (BeanInstantiationException | IllegalStateException e) {
            context.close();
            throw new ConfigException("[control] " + control.url() + ": cannot open the control store ("
                    + rootMessage(e) + "); check url, user and password in [control] and that the database exists", e);
        }
    }

    public TaskRepository tasks() {
        return tasks;
    }

    private static String rootMessage(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null) {
            t = t.getCause();
        }
        return t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage().lines().findFirst().orElse("");
    }

    @Override
    public void close() {
        context.close();
    }
}
