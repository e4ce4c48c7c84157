package dev.pgreshard.core.pg;

import dev.pgreshard.core.config.Credentials;
import dev.pgreshard.core.config.PgReshardConfig;
import dev.pgreshard.core.topology.Shard;
import org.postgresql.PGProperty;

import java.net.Socket;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.Properties;
import java.util.UUID;

/**
 * Opens JDBC connections to shards with the credentials the worker's own users.toml gives for the
 * shard's cluster. Workflows carry only names; the secrets stay here.
 */
public final class PgConnector {
    private final PgReshardConfig config;

    public PgConnector(PgReshardConfig config) {
        this.config = config;
    }

    /** An ordinary connection (autocommit on). */
    public Connection open(Shard shard) throws SQLException {
        return connect(shard, baseProperties(shard));
    }

    /** A connection to {@code shard} as {@code as} instead of pgreshard's own login for its cluster. */
    public Connection open(Shard shard, Credentials as) throws SQLException {
        Properties props = baseProperties(shard);
        PGProperty.USER.set(props, as.user());
        PGProperty.PASSWORD.set(props, as.password().reveal());
        return connect(shard, props);
    }

    /**
     * A logical replication connection ({@code replication=database}) for the streaming API of
     * PgJDBC ({@code PGConnection.getReplicationAPI()}); simple query mode, as the walsender requires.
     */
    public Connection openReplication(Shard shard) throws SQLException {
        return connect(shard, replicationProperties(shard));
    }

    private Properties replicationProperties(Shard shard) {
        Properties props = baseProperties(shard);
        PGProperty.REPLICATION.set(props, "database");
        PGProperty.ASSUME_MIN_SERVER_VERSION.set(props, "10");
        PGProperty.PREFER_QUERY_MODE.set(props, "simple");
        return props;
    }

    /**
     * {@link #openReplication} with the connection's socket at hand ({@link StreamConnection#socketDrained()}),
     * for the streaming reader.
     */
    public StreamConnection openReplicationStream(Shard shard) throws SQLException {
        Properties props = replicationProperties(shard);
        String token = UUID.randomUUID().toString();
        props.setProperty(PGProperty.SOCKET_FACTORY.getName(), RememberingSocketFactory.class.getName());
        props.setProperty(RememberingSocketFactory.TOKEN, token);
        Connection connection;
        Socket socket;
        try {
            connection = connect(shard, props);
        } finally {
            socket = RememberingSocketFactory.take(token);
        }
        return new StreamConnection(connection, socket);
    }

    private Properties baseProperties(Shard shard) {
        Credentials creds = config.serverCredentials(shard.cluster());
        Properties props = new Properties();
        PGProperty.USER.set(props, creds.user());
        PGProperty.PASSWORD.set(props, creds.password().reveal());
        PGProperty.APPLICATION_NAME.set(props, "pgreshard");
        PGProperty.CONNECT_TIMEOUT.set(props, "10");
        PGProperty.TCP_KEEP_ALIVE.set(props, "true");
        return props;
    }

    private static Connection connect(Shard shard, Properties props) throws SQLException {
        try {
            return DriverManager.getConnection(shard.jdbcUrl(), props);
        } catch (SQLException e) {
            throw explain(shard, props.getProperty(PGProperty.USER.getName()), e);
        }
    }

    /** Rewrites a connect failure into a message that names the shard, the user and the fix. */
    static SQLException explain(Shard shard, String user, SQLException e) {
        String state = e.getSQLState() == null ? "" : e.getSQLState();
        String why = switch (state) {
            case "28P01", "28000" -> "authentication failed for user '" + user + "'; check that user's password in "
                    + "users.toml and pg_hba.conf on the server";
            case "3D000" -> "database '" + shard.databaseName() + "' does not exist; fix database_name in pgreshard.toml";
            case "08001", "08004", "08006" -> "cannot connect (" + firstLine(e.getMessage()) + "); check host/port in "
                    + "pgreshard.toml and that the server is running";
            case "53300" -> "too many connections on the server; raise max_connections or lower copy_parallelism";
            default -> firstLine(e.getMessage());
        };
        return new SQLException(shard.describe() + ": " + why, e.getSQLState(), e);
    }

    private static String firstLine(String message) {
        if (message == null) {
            return "no detail";
        }
        int nl = message.indexOf('\n');
        return nl < 0 ? message : message.substring(0, nl);
    }
}
