package dev.pgreshard.activities.control;

import dev.pgreshard.core.config.ControlConfig;

import java.sql.Array;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.HashSet;
import java.util.List;
import java.util.Properties;
import java.util.Set;

/**
 * Records many commit decisions in one control-store transaction (group commit of the proxies'
 * two-phase commits): one {@code INSERT … SELECT FROM unnest(arrays) ON CONFLICT DO NOTHING RETURNING},
 * durable when it returns (autocommit, the server's synchronous_commit). Keeps one connection of its own
 * — no pool, no repository layers on this per-commit path — reopened after any failure. Used by one
 * thread at a time.
 */
public final class DecisionWriter implements AutoCloseable {
    /** A decision to record: {@code decision} is 'commit' or 'abort'. */
    public record NewDecision(String gid, String decision, String participants, String decidedBy) {
    }

    private static final String INSERT = """
            INSERT INTO pgreshard_decision (gid, decision, participants, decided_by)
            SELECT * FROM unnest(?::text[], ?::text[], ?::text[], ?::text[])
            ON CONFLICT (gid) DO NOTHING RETURNING gid""";

    private final ControlConfig control;
    private Connection connection;
    private PreparedStatement insert;

    DecisionWriter(ControlConfig control) {
        this.control = control;
    }

    /**
     * Records every decision that has none yet; returns the gids recorded now (the others had a
     * decision already: the first one wins). Throws when the control store cannot be reached — then
     * nothing is known about which were recorded.
     */
    public Set<String> recordAll(List<NewDecision> decisions) throws SQLException {
        try {
            PreparedStatement s = statement();
            Connection c = connection;
            s.setArray(1, texts(c, decisions.stream().map(NewDecision::gid).toArray(String[]::new)));
            s.setArray(2, texts(c, decisions.stream().map(NewDecision::decision).toArray(String[]::new)));
            s.setArray(3, texts(c, decisions.stream().map(NewDecision::participants).toArray(String[]::new)));
            s.setArray(4, texts(c, decisions.stream().map(NewDecision::decidedBy).toArray(String[]::new)));
            Set<String> recorded = new HashSet<>();
            try (ResultSet rs = s.executeQuery()) {
                while (rs.next()) {
                    recorded.add(rs.getString(1));
                }
            }
            return recorded;
        } catch (SQLException | RuntimeException e) {
            close(); // a fresh connection next time
            throw e;
        }
    }

    private static Array texts(Connection c, String[] values) throws SQLException {
        return c.createArrayOf("text", values);
    }

    private PreparedStatement statement() throws SQLException {
        if (insert == null) {
            Properties p = new Properties();
            p.setProperty("user", control.user());
            p.setProperty("password", control.password().reveal());
            p.setProperty("ApplicationName", "pgreshard 2pc decisions");
            p.setProperty("connectTimeout", "10");
            connection = DriverManager.getConnection(control.url(), p);
            insert = connection.prepareStatement(INSERT);
        }
        return insert;
    }

    @Override
    public void close() {
        try {
            if (connection != null) {
                connection.close();
            }
        } catch (SQLException ignored) {
            // closing a broken connection: nothing to keep
        } finally {
            connection = null;
            insert = null;
        }
    }
}
