package dev.pgreshard.cli.demo;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CompletableFuture;

/**
 * The demo's four PostgreSQL servers (zonky embedded PostgreSQL, binaries from Maven Central):
 * the source, two destination shards and the control store, each with its data directory under
 * the demo's temporary directory. Started in parallel; {@link #close()} stops them all.
 */
final class DemoServers implements AutoCloseable {
    /**
     * Logical WAL on every server: the source feeds forward replication, the shards reverse replication.
     * Prepared transactions: the proxy commits multi-shard transactions on the shards with 2PC.
     */
    private static final Map<String, String> SETTINGS = Map.of(
            "wal_level", "logical",
            "max_replication_slots", "20",
            "max_wal_senders", "20",
            "max_connections", "100",
            "synchronous_commit", "on",
            "shared_buffers", "64MB",
            "max_prepared_transactions", "100");
    static final String SUPERUSER = "postgres";

    /** One started server. */
    record Server(String role, EmbeddedPostgres postgres) {
        int port() {
            return postgres.getPort();
        }

        Connection connect(String database) throws SQLException {
            Properties p = new Properties();
            p.setProperty("user", SUPERUSER);
            p.setProperty("password", SUPERUSER);
            return DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + port() + "/" + database, p);
        }
    }

    private final List<Server> servers;

    private DemoServers(List<Server> servers) {
        this.servers = servers;
    }

    /** Starts source, shard0, shard1 and control under {@code dir}. */
    static DemoServers start(Path dir) {
        List<String> roles = List.of("source", "shard0", "shard1", "control");
        List<CompletableFuture<Server>> starting = new ArrayList<>();
        for (String role : roles) {
            starting.add(CompletableFuture.supplyAsync(() -> boot(dir, role)));
        }
        List<Server> started = new ArrayList<>();
        RuntimeException failure = null;
        for (CompletableFuture<Server> f : starting) {
            try {
                started.add(f.join());
            } catch (RuntimeException e) {
                failure = failure == null ? e : failure;
            }
        }
        DemoServers servers = new DemoServers(started);
        if (failure != null) {
            servers.close();
            Throwable cause = failure.getCause() == null ? failure : failure.getCause();
            throw new IllegalStateException("cannot start the demo's embedded PostgreSQL: " + cause.getMessage(), cause);
        }
        return servers;
    }

    private static Server boot(Path dir, String role) {
        try {
            EmbeddedPostgres.Builder b = EmbeddedPostgres.builder()
                    .setDataDirectory(dir.resolve("pg-" + role))
                    .setCleanDataDirectory(true)
                    // the binaries are unpacked here too, so that the demo leaves nothing behind
                    .setOverrideWorkingDirectory(dir.resolve("pg-binaries").toFile())
                    .setPort(freePort())
                    .setPGStartupWait(Duration.ofSeconds(60));
            SETTINGS.forEach(b::setServerConfig);
            return new Server(role, b.start());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    Server server(String role) {
        return servers.stream().filter(s -> s.role().equals(role)).findFirst()
                .orElseThrow(() -> new IllegalStateException("no demo server " + role));
    }

    static int freePort() {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException("no free TCP port", e);
        }
    }

    @Override
    public void close() {
        for (Server s : servers) {
            try {
                s.postgres().close();
            } catch (IOException | RuntimeException e) {
                // keep stopping the others; the temporary directory goes with them
            }
        }
    }
}
