package dev.pgreshard.testkit;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A real PostgreSQL server for tests (embedded or a container), configured for logical
 * replication with {@code synchronous_commit=on}. Tests take fresh databases from it.
 */
public interface PgServer extends AutoCloseable {
    AtomicInteger DATABASE_SEQ = new AtomicInteger();

    String host();

    int port();

    String superuser();

    String password();

    /** Major version, e.g. 15. */
    int majorVersion();

    default String jdbcUrl(String database) {
        return "jdbc:postgresql://" + host() + ":" + port() + "/" + database;
    }

    default Connection connect(String database) throws SQLException {
        return DriverManager.getConnection(jdbcUrl(database), superuser(), password());
    }

    /** A new, empty database named {@code prefix_<n>}. */
    default TestDatabase createDatabase(String prefix) {
        String name = (prefix.toLowerCase().replaceAll("[^a-z0-9_]", "_") + "_" + DATABASE_SEQ.incrementAndGet());
        try (Connection c = connect("postgres"); Statement s = c.createStatement()) {
            s.execute("CREATE DATABASE " + name);
        } catch (SQLException e) {
            throw new IllegalStateException("cannot create test database " + name + " on " + this, e);
        }
        return new TestDatabase(this, name);
    }

    /** Stops and starts the server on the same port and data (for fault tests). */
    void restart();

    @Override
    void close();
}
