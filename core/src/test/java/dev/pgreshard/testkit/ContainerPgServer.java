package dev.pgreshard.testkit;

import org.opentest4j.TestAbortedException;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.containers.PostgreSQLContainer;
import org.testcontainers.utility.DockerImageName;

import java.util.ArrayList;
import java.util.List;

/**
 * PostgreSQL in a container (Testcontainers), for machines with a Docker engine:
 * {@code -Dpgreshard.test.backend=testcontainers}. Without Docker the tests that need it are
 * aborted (reported as skipped), never failed.
 */
public final class ContainerPgServer implements PgServer {
    private final PostgreSQLContainer<?> container;
    private final int majorVersion;

    private ContainerPgServer(PostgreSQLContainer<?> container, int majorVersion) {
        this.container = container;
        this.majorVersion = majorVersion;
    }

    public static ContainerPgServer start(int majorVersion) {
        if (!DockerClientFactory.instance().isDockerAvailable()) {
            throw new TestAbortedException("pgreshard.test.backend=testcontainers but no Docker engine is available");
        }
        List<String> command = new ArrayList<>(List.of("postgres"));
        EmbeddedPgServer.SETTINGS.forEach((k, v) -> {
            command.add("-c");
            command.add(k + "=" + v);
        });
        PostgreSQLContainer<?> c = new PostgreSQLContainer<>(DockerImageName.parse("postgres:" + majorVersion))
                .withUsername("postgres").withPassword("postgres")
                .withCommand(command.toArray(String[]::new));
        c.start();
        return new ContainerPgServer(c, majorVersion);
    }

    @Override
    public String host() {
        return container.getHost();
    }

    @Override
    public int port() {
        return container.getMappedPort(PostgreSQLContainer.POSTGRESQL_PORT);
    }

    @Override
    public String superuser() {
        return container.getUsername();
    }

    @Override
    public String password() {
        return container.getPassword();
    }

    @Override
    public int majorVersion() {
        return majorVersion;
    }

    @Override
    public void restart() {
        throw new TestAbortedException("restarting a server keeps its port only on the embedded backend");
    }

    @Override
    public void close() {
        container.stop();
    }

    @Override
    public String toString() {
        return "container postgres:" + majorVersion + " on " + host() + ":" + port();
    }
}
