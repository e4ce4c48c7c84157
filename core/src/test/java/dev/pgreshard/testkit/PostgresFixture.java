package dev.pgreshard.testkit;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The test run's PostgreSQL servers, started on first use and shared by every test in the JVM
 * (stopped at JVM exit). {@link #server()} is the common one; tests that stop or restart a
 * server ask for a {@link #server(String) named} one of their own.
 *
 * <p>System properties: {@code pgreshard.test.backend} = {@code embedded} (default) or
 * {@code testcontainers}; {@code pgreshard.test.pg} = major version (default 15; the embedded
 * binaries follow the Maven profile of the same property).
 */
public final class PostgresFixture {
    public static final String DEFAULT = "default";
    private static final Map<String, PgServer> SERVERS = new LinkedHashMap<>();

    static {
        Runtime.getRuntime().addShutdownHook(new Thread(PostgresFixture::stopAll, "pgreshard-test-pg-stop"));
    }

    private PostgresFixture() {
    }

    public static PgServer server() {
        return server(DEFAULT);
    }

    public static synchronized PgServer server(String name) {
        return SERVERS.computeIfAbsent(name, n -> startServer());
    }

    /** A fresh database on the shared server. */
    public static TestDatabase database(String prefix) {
        return server().createDatabase(prefix);
    }

    public static String backend() {
        String b = System.getProperty("pgreshard.test.backend", "embedded");
        return b.isBlank() || b.startsWith("${") ? "embedded" : b;
    }

    public static int majorVersion() {
        String v = System.getProperty("pgreshard.test.pg", "15");
        return v.isBlank() || v.startsWith("${") ? 15 : Integer.parseInt(v);
    }

    private static PgServer startServer() {
        return switch (backend()) {
            case "embedded" -> EmbeddedPgServer.start();
            case "testcontainers" -> ContainerPgServer.start(majorVersion());
            default -> throw new IllegalArgumentException("pgreshard.test.backend must be embedded or testcontainers, got '"
                    + backend() + "'");
        };
    }

    private static synchronized void stopAll() {
        SERVERS.values().forEach(s -> {
            try {
                s.close();
            } catch (RuntimeException ignored) {
                // the JVM is exiting; a server that will not stop dies with its process group
            }
        });
        SERVERS.clear();
    }
}
