package dev.pgreshard.testkit;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;

/** One database of a test server, with small helpers for arranging and checking data in plain SQL. */
public record TestDatabase(PgServer server, String name) {

    public String jdbcUrl() {
        return server.jdbcUrl(name);
    }

    public Connection connect() throws SQLException {
        return server.connect(name);
    }

    /** A connection as the server's superuser with further PgJDBC properties (e.g. preferQueryMode). */
    public Connection connect(java.util.Properties extra) throws SQLException {
        java.util.Properties p = new java.util.Properties();
        p.putAll(extra);
        p.setProperty("user", server.superuser());
        p.setProperty("password", server.password());
        return java.sql.DriverManager.getConnection(jdbcUrl(), p);
    }

    /** Runs each statement in its own autocommit transaction. */
    public void execute(String... sql) {
        try (Connection c = connect(); Statement s = c.createStatement()) {
            for (String statement : sql) {
                s.execute(statement);
            }
        } catch (SQLException e) {
            throw new IllegalStateException("on " + name + ": " + e.getMessage(), e);
        }
    }

    /** The first column of the first row, as a long (e.g. a count). */
    public long queryLong(String sql) {
        try (Connection c = connect(); Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            if (!rs.next()) {
                throw new IllegalStateException("no row from: " + sql);
            }
            return rs.getLong(1);
        } catch (SQLException e) {
            throw new IllegalStateException("on " + name + ": " + e.getMessage(), e);
        }
    }

    /**
     * Reads {@link #queryLong} until it returns {@code expected} or {@code withinMs} have passed, and returns the
     * last value read, for the caller to assert: for what the server ends on its own time, e.g. a backend whose
     * client closed its socket is still listed in pg_stat_activity for a moment.
     */
    public long awaitLong(String sql, long expected, long withinMs) {
        long deadline = System.nanoTime() + withinMs * 1_000_000L;
        long value = queryLong(sql);
        while (value != expected && System.nanoTime() < deadline) {
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return value;
            }
            value = queryLong(sql);
        }
        return value;
    }

    /** Every row, each as its columns' text. */
    public List<List<String>> queryRows(String sql) {
        try (Connection c = connect(); Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            int n = rs.getMetaData().getColumnCount();
            List<List<String>> rows = new ArrayList<>();
            while (rs.next()) {
                List<String> row = new ArrayList<>(n);
                for (int i = 1; i <= n; i++) {
                    row.add(rs.getString(i));
                }
                rows.add(row);
            }
            return rows;
        } catch (SQLException e) {
            throw new IllegalStateException("on " + name + ": " + e.getMessage(), e);
        }
    }

    /** The config line block of a {@code [[databases]]} entry pointing at this database. */
    public String databasesEntry(String clusterName, int shard) {
        return "[[databases]]\nname = \"" + clusterName + "\"\nhost = \"" + server.host() + "\"\nport = " + server.port()
                + "\ndatabase_name = \"" + name + "\"\nshard = " + shard + "\n";
    }

    /** The users.toml entry giving pgreshard the server's superuser for {@code clusterName}. */
    public String usersEntry(String clusterName) {
        return "[[users]]\nname = \"" + server.superuser() + "\"\ndatabase = \"" + clusterName + "\"\npassword = \""
                + server.password() + "\"\n";
    }
}
