package dev.pgreshard.activities.cutover;

import dev.pgreshard.core.config.PgReshardConfig;
import dev.pgreshard.core.config.UserConfig;
import dev.pgreshard.core.pg.Identifiers;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;

/**
 * Optional fencing of the old cluster ({@code fence_source}): after the cutover the application
 * roles of the source (the server roles of its users.toml entries, except the role pgreshard itself
 * replicates with, which reverse replication needs) lose INSERT, UPDATE, DELETE and TRUNCATE on the
 * moved tables, so a client that bypasses the proxy cannot write where nobody reads any more. A
 * rollback grants them back. Only direct grants are revoked; privileges through group roles or
 * ownership stay (the owner of a table cannot be fenced this way).
 */
final class SourceFence {
    private final List<String> roles;
    private final List<String> tables;

    private SourceFence(List<String> roles, List<String> tables) {
        this.roles = roles;
        this.tables = tables;
    }

    /** The fence of {@code cluster}'s published tables; reads the table list from {@code shard0}. */
    static SourceFence of(PgReshardConfig config, String cluster, String publication, Connection shard0) throws SQLException {
        String own = config.serverCredentials(cluster).user();
        List<String> roles = new ArrayList<>();
        for (UserConfig u : config.users()) {
            String role = u.serverCredentials().user();
            if (u.database().equals(cluster) && !role.equals(own) && !roles.contains(role)) {
                roles.add(role);
            }
        }
        List<String> tables = new ArrayList<>();
        try (PreparedStatement ps = shard0.prepareStatement("SELECT schemaname, tablename FROM pg_catalog.pg_publication_tables "
                + "WHERE pubname = ? AND schemaname <> 'pgreshard' ORDER BY 1, 2")) {
            ps.setString(1, publication);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    tables.add(Identifiers.quote(rs.getString(1)) + "." + Identifiers.quote(rs.getString(2)));
                }
            }
        }
        return new SourceFence(roles, tables);
    }

    /** Why fencing cannot work with this config, or null. */
    String whyNot() {
        if (roles.isEmpty()) {
            return "fence_source needs application roles other than the role pgreshard replicates with; users.toml "
                    + "lists none for this database, so the source was not fenced";
        }
        return tables.isEmpty() ? "the publication lists no table to fence" : null;
    }

    void revoke(List<Connection> shards) throws SQLException {
        run(shards, "REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON TABLE " + String.join(", ", tables) + " FROM " + roleList());
    }

    void grant(List<Connection> shards) throws SQLException {
        run(shards, "GRANT INSERT, UPDATE, DELETE, TRUNCATE ON TABLE " + String.join(", ", tables) + " TO " + roleList());
    }

    private String roleList() {
        return String.join(", ", roles.stream().map(Identifiers::quote).toList());
    }

    private static void run(List<Connection> shards, String sql) throws SQLException {
        for (Connection c : shards) {
            try (Statement s = c.createStatement()) {
                s.execute(sql);
            }
        }
    }
}
