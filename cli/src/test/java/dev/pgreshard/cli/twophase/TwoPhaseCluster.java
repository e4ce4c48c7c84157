package dev.pgreshard.cli.twophase;

import dev.pgreshard.cli.PgReshardCommand;
import dev.pgreshard.cli.ProxyHost;
import dev.pgreshard.core.config.ConfigLoader;
import dev.pgreshard.proxy.ProxyOptions;
import dev.pgreshard.core.sharding.ShardFunction;
import dev.pgreshard.core.sharding.ShardKeyType;
import dev.pgreshard.testkit.ChildJvm;
import dev.pgreshard.testkit.FreePorts;
import dev.pgreshard.testkit.PgServer;
import dev.pgreshard.testkit.PostgresFixture;
import dev.pgreshard.testkit.TestDatabase;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BooleanSupplier;

/**
 * Two shards of cluster {@code dst} on their own restartable PostgreSQL server, the control store on
 * the shared one, and a pgreshard proxy in a child JVM (SIGKILL-able, with a 2PC fault hook armed by a
 * system property). Table {@code accounts} is sharded by id with a deferred unique constraint (it
 * fails at PREPARE); {@code regions} is omnisharded.
 */
final class TwoPhaseCluster implements AutoCloseable {
    static final String USER = "app";
    static final String PASSWORD = "app-pw-2pc";
    private static final ShardFunction SHARDS = new ShardFunction(ShardKeyType.BIGINT, 2);

    final PgServer shardServer = PostgresFixture.server("twophase-shards");
    final TestDatabase control = PostgresFixture.database("tp_control");
    final TestDatabase d0 = shardServer.createDatabase("tp_d0");
    final TestDatabase d1 = shardServer.createDatabase("tp_d1");
    final Path config;
    final int port = FreePorts.next();
    private final List<ChildJvm> proxies = new ArrayList<>();
    private final List<ProxyHost> inProcess = new ArrayList<>();

    TwoPhaseCluster(Path dir, boolean twoPhase) throws Exception {
        for (TestDatabase d : List.of(d0, d1)) {
            d.execute("CREATE TABLE accounts (id bigint PRIMARY KEY, email text, balance int NOT NULL CHECK (balance >= 0), "
                            + "CONSTRAINT accounts_email UNIQUE (email) DEFERRABLE INITIALLY DEFERRED)",
                    "CREATE TABLE regions (code text PRIMARY KEY, name text)");
        }
        config = dir.resolve("pgreshard.toml");
        Files.writeString(config, "[general]\nhost = \"127.0.0.1\"\nport = " + port + "\ncontrol_port = " + FreePorts.next()
                + "\ntwo_phase_commit = " + twoPhase + "\n"
                + "[control]\nurl = \"" + control.jdbcUrl() + "\"\nuser = \"postgres\"\npassword = \"postgres\"\n"
                + "[admin]\nuser = \"admin\"\npassword = \"admin-pw-2pc\"\n"
                + d0.databasesEntry("dst", 0) + d1.databasesEntry("dst", 1)
                + "[[sharded_tables]]\ndatabase = \"dst\"\nname = \"accounts\"\ncolumn = \"id\"\ndata_type = \"bigint\"\n");
        Files.writeString(dir.resolve("users.toml"), "[[users]]\nname = \"" + USER + "\"\ndatabase = \"dst\"\npassword = \""
                + PASSWORD + "\"\nserver_user = \"" + shardServer.superuser() + "\"\nserver_password = \""
                + shardServer.password() + "\"\n");
    }

    /** The first {@code n} ids (from {@code from}) that live on {@code shard}. */
    static List<Long> idsOn(int shard, long from, int n) {
        List<Long> ids = new ArrayList<>();
        for (long id = from; ids.size() < n; id++) {
            if (SHARDS.shardOf(id) == shard) {
                ids.add(id);
            }
        }
        return ids;
    }

    /** Starts a proxy JVM; {@code haltAt} arms the 2PC fault hook ("" for none). */
    ChildJvm startProxy(String haltAt) throws InterruptedException {
        List<String> jvmArgs = new ArrayList<>(List.of("-Xmx256m"));
        if (!haltAt.isEmpty()) {
            jvmArgs.add("-Dpgreshard.test.twophase.halt=" + haltAt);
        }
        ChildJvm proxy = ChildJvm.start(PgReshardCommand.class.getName(), jvmArgs,
                List.of("proxy", "--config", config.toString()));
        proxies.add(proxy);
        await("the proxy to start", Duration.ofSeconds(300), () -> {
            if (!proxy.isAlive()) {
                throw new AssertionError("proxy exited:\n" + proxy.output());
            }
            return proxy.output().contains("pgreshard proxy listening");
        });
        return proxy;
    }

    /** A proxy in this JVM (faster to start; for the tests that kill nothing). */
    ProxyHost startInProcess() {
        ProxyHost host = ProxyHost.start(ConfigLoader.load(config), ProxyOptions.DEFAULTS);
        inProcess.add(host);
        return host;
    }

    Connection client() throws SQLException {
        return DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + port + "/dst?sslmode=disable&connectTimeout=10",
                USER, PASSWORD);
    }

    long rows(String where) {
        return d0.queryLong("SELECT count(*) FROM accounts WHERE " + where)
                + d1.queryLong("SELECT count(*) FROM accounts WHERE " + where);
    }

    /** Our prepared transactions on the shards' server. */
    long prepared() {
        return d0.queryLong("SELECT count(*) FROM pg_prepared_xacts WHERE gid LIKE 'pgreshard\\_%'");
    }

    long decisions(String decision) {
        return control.queryLong("SELECT count(*) FROM pgreshard_decision WHERE decision = '" + decision + "'");
    }

    static void await(String what, Duration timeout, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out after " + timeout.toSeconds() + " s waiting for " + what);
            }
            Thread.sleep(200);
        }
    }

    String output() {
        StringBuilder b = new StringBuilder();
        proxies.forEach(p -> b.append("---- proxy ").append(p.pid()).append('\n').append(p.output()));
        return b.toString();
    }

    @Override
    public void close() {
        inProcess.forEach(ProxyHost::close);
        proxies.forEach(p -> {
            if (p.isAlive()) {
                p.kill();
            }
        });
    }
}
