package dev.pgreshard.testkit;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Comparator;
import java.util.Map;
import java.util.stream.Stream;

/**
 * zonky embedded PostgreSQL (the binaries come from Maven Central; the major version is chosen with
 * {@code -Dpgreshard.test.pg=NN}). Its data directory is kept across {@link #restart()}.
 */
public final class EmbeddedPgServer implements PgServer {
    /** Server settings every test server gets: logical replication, prepared transactions, deterministic commits. */
    public static final Map<String, String> SETTINGS = Map.of(
            "wal_level", "logical",
            "synchronous_commit", "on",
            "max_replication_slots", "64",
            "max_wal_senders", "64",
            "max_connections", "300",
            "max_logical_replication_workers", "16",
            "max_worker_processes", "32",
            "wal_sender_timeout", "60s",
            // two-phase commit through the proxy (PREPARE TRANSACTION) needs it above 0
            "max_prepared_transactions", "100");

    private final Path dataDir;
    private final int port;
    private EmbeddedPostgres pg;
    private int majorVersion;

    private EmbeddedPgServer(Path dataDir, int port) {
        this.dataDir = dataDir;
        this.port = port;
    }

    public static EmbeddedPgServer start() {
        try {
            Path dir = Files.createTempDirectory("pgreshard-pg-");
            EmbeddedPgServer server = new EmbeddedPgServer(dir, FreePorts.next());
            server.boot();
            return server;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start embedded PostgreSQL", e);
        }
    }

    private void boot() throws IOException {
        EmbeddedPostgres.Builder b = EmbeddedPostgres.builder()
                .setDataDirectory(dataDir)
                .setCleanDataDirectory(false)
                .setPort(port)
                .setPGStartupWait(Duration.ofSeconds(60));
        SETTINGS.forEach(b::setServerConfig);
        pg = b.start();
        try (Connection c = connect("postgres"); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SHOW server_version_num")) {
            rs.next();
            majorVersion = rs.getInt(1) / 10000;
        } catch (SQLException e) {
            throw new IOException("embedded PostgreSQL started but does not answer", e);
        }
    }

    @Override
    public String host() {
        return "127.0.0.1";
    }

    @Override
    public int port() {
        return port;
    }

    @Override
    public String superuser() {
        return "postgres";
    }

    @Override
    public String password() {
        return "postgres";
    }

    @Override
    public int majorVersion() {
        return majorVersion;
    }

    @Override
    public synchronized void restart() {
        try {
            pg.close();
            boot();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot restart embedded PostgreSQL on port " + port, e);
        }
    }

    @Override
    public synchronized void close() {
        try {
            if (pg != null) {
                pg.close();
                pg = null;
            }
            try (Stream<Path> files = Files.walk(dataDir)) {
                files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot stop embedded PostgreSQL on port " + port, e);
        }
    }

    @Override
    public String toString() {
        return "embedded PostgreSQL " + majorVersion + " on port " + port;
    }
}
