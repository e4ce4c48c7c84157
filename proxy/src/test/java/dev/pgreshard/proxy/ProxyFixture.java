package dev.pgreshard.proxy;

import dev.pgreshard.core.config.ConfigLoader;
import dev.pgreshard.core.config.PgReshardConfig;
import dev.pgreshard.testkit.FreePorts;
import dev.pgreshard.testkit.TestDatabase;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;

/**
 * Writes a pgreshard.toml/users.toml for some clusters of test databases and runs a proxy on free
 * ports. Clients log in as {@link #USER}/{@link #PASSWORD}; the proxy reaches the servers as their
 * superuser (server_user/server_password).
 */
public final class ProxyFixture implements AutoCloseable {
    public static final String USER = "app";
    public static final String PASSWORD = "app secret";
    public static final String ADMIN_USER = "admin";
    public static final String ADMIN_PASSWORD = "admin secret";

    private final Map<String, List<TestDatabase>> clusters = new LinkedHashMap<>();
    private final List<String> shardedTables = new ArrayList<>();
    private final StringBuilder extraUsers = new StringBuilder();
    private String extraGeneral = "";
    private ProxyOptions options = ProxyOptions.DEFAULTS;
    private ProxyServer server;
    private PgReshardConfig config;
    private int port;
    private int controlPort;
    private Path dir;

    public ProxyFixture cluster(String name, TestDatabase... shards) {
        clusters.put(name, List.of(shards));
        return this;
    }

    public ProxyFixture shardedTable(String cluster, String table, String column, String type) {
        shardedTables.add("[[sharded_tables]]\ndatabase = \"" + cluster + "\"\nname = \"" + table + "\"\ncolumn = \""
                + column + "\"\ndata_type = \"" + type + "\"\n");
        return this;
    }

    /** A further users.toml entry (after the fixture's own {@link #USER} entries) reaching the servers as itself. */
    public ProxyFixture user(String cluster, String name, String password) {
        extraUsers.append("[[users]]\nname = \"").append(name).append("\"\ndatabase = \"").append(cluster)
                .append("\"\npassword = \"").append(password).append("\"\n\n");
        return this;
    }

    /** A further users.toml entry reaching the servers as {@code serverUser}. */
    public ProxyFixture user(String cluster, String name, String password, String serverUser, String serverPassword) {
        extraUsers.append("[[users]]\nname = \"").append(name).append("\"\ndatabase = \"").append(cluster)
                .append("\"\npassword = \"").append(password).append("\"\nserver_user = \"").append(serverUser)
                .append("\"\nserver_password = \"").append(serverPassword).append("\"\n\n");
        return this;
    }

    public ProxyFixture general(String lines) {
        extraGeneral += lines + "\n";
        return this;
    }

    public ProxyFixture options(ProxyOptions o) {
        options = o;
        return this;
    }

    public ProxyFixture start() {
        port = FreePorts.next();
        controlPort = FreePorts.next();
        StringBuilder toml = new StringBuilder();
        toml.append("[general]\nhost = \"127.0.0.1\"\nport = ").append(port).append("\ncontrol_port = ").append(controlPort)
                .append('\n').append(extraGeneral);
        toml.append("\n[admin]\nuser = \"").append(ADMIN_USER).append("\"\npassword = \"").append(ADMIN_PASSWORD).append("\"\n\n");
        StringBuilder users = new StringBuilder();
        clusters.forEach((name, shards) -> {
            for (int i = 0; i < shards.size(); i++) {
                toml.append(shards.get(i).databasesEntry(name, i)).append('\n');
            }
            TestDatabase first = shards.get(0);
            users.append("[[users]]\nname = \"").append(USER).append("\"\ndatabase = \"").append(name)
                    .append("\"\npassword = \"").append(PASSWORD).append("\"\nserver_user = \"")
                    .append(first.server().superuser()).append("\"\nserver_password = \"")
                    .append(first.server().password()).append("\"\n\n");
        });
        users.append(extraUsers);
        shardedTables.forEach(t -> toml.append(t).append('\n'));
        try {
            dir = Files.createTempDirectory("pgreshard-proxy-test");
            Files.writeString(dir.resolve("pgreshard.toml"), toml);
            Files.writeString(dir.resolve("users.toml"), users);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        config = ConfigLoader.load(dir.resolve("pgreshard.toml"));
        server = ProxyServer.start(config, options);
        return this;
    }

    public Path configFile() {
        return dir.resolve("pgreshard.toml");
    }

    public ProxyServer server() {
        return server;
    }

    public int port() {
        return port;
    }

    public int controlPort() {
        return controlPort;
    }

    public String url(String database) {
        return "jdbc:postgresql://127.0.0.1:" + port + "/" + database;
    }

    public Connection connect(String database) throws SQLException {
        return connect(database, USER, PASSWORD, new Properties());
    }

    public Connection connect(String database, String user, String password, Properties extra) throws SQLException {
        Properties p = new Properties();
        p.putAll(extra);
        p.setProperty("user", user);
        p.setProperty("password", password);
        p.putIfAbsent("sslmode", "disable");
        p.putIfAbsent("connectTimeout", "10");
        return DriverManager.getConnection(url(database), p);
    }

    public Connection connectAdmin() throws SQLException {
        Properties p = new Properties();
        p.setProperty("preferQueryMode", "simple");
        return connect("admin", ADMIN_USER, ADMIN_PASSWORD, p);
    }

    @Override
    public void close() {
        if (server != null) {
            server.close();
        }
    }
}
