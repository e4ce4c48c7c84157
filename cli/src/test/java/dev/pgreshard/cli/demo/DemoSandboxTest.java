package dev.pgreshard.cli.demo;

import dev.pgreshard.cli.PgReshardCommand;
import dev.pgreshard.core.config.ConfigLoader;
import dev.pgreshard.core.config.PgReshardConfig;
import dev.pgreshard.core.topology.Shard;
import dev.pgreshard.core.topology.Topology;
import dev.pgreshard.testkit.ChildJvm;
import dev.pgreshard.testkit.FreePorts;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * `pgreshard demo --sandbox` as an operator starts it for the fault drill: in its own process, it
 * prints a config whose servers hold the sample data and a publication, points Temporal at the
 * standalone server of the drill, and on Ctrl-C (SIGTERM) stops everything and deletes its directory.
 */
class DemoSandboxTest {

    @Test
    void sandboxServesTheSampleDataUntilStoppedThenLeavesNothing() throws Exception {
        int temporalPort = FreePorts.next();
        try (ChildJvm sandbox = ChildJvm.start(PgReshardCommand.class.getName(), List.of("-Xmx256m"),
                List.of("demo", "--sandbox", "--orders", "5000", "--temporal-port", String.valueOf(temporalPort)))) {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
            while (!sandbox.output().contains("A fault drill")) {
                assertTrue(sandbox.isAlive(), "the sandbox exited:\n" + sandbox.output());
                assertTrue(System.nanoTime() < deadline, "the sandbox never became ready:\n" + sandbox.output());
                Thread.sleep(200);
            }
            Thread.sleep(500); // the rest of the instructions
            String printed = sandbox.output();
            Matcher c = Pattern.compile("C=(\\S+)").matcher(printed);
            assertTrue(c.find(), printed);
            Path config = Path.of(c.group(1));
            PgReshardConfig cfg = ConfigLoader.load(config);
            assertEquals("127.0.0.1:" + temporalPort, cfg.temporal().address(), "the drill's standalone Temporal");
            assertTrue(printed.contains("./pgreshard temporal --port " + temporalPort), printed);
            assertTrue(printed.contains("pgbench -n -c 4 -R 200"), printed);
            assertTrue(Files.exists(config.resolveSibling("writes.sql")), "the pgbench script is written");

            Topology topology = Topology.of(cfg);
            Shard source = topology.cluster("src").shard(0);
            try (Connection conn = connect(cfg, source); Statement s = conn.createStatement()) {
                assertEquals(2000, count(s, "SELECT count(*) FROM tenants"));
                assertEquals(5000, count(s, "SELECT count(*) FROM orders"));
                assertEquals(4, count(s, "SELECT count(*) FROM pg_publication_tables WHERE pubname = 'demo_pub'"));
            }
            for (Shard shard : topology.cluster("dst").shards()) {
                try (Connection conn = connect(cfg, shard); Statement s = conn.createStatement()) {
                    assertEquals(0, count(s, "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"),
                            "the destination starts empty");
                }
            }

            assertTrue(sandbox.terminate(60, TimeUnit.SECONDS) != -1, "the sandbox stops on SIGTERM:\n" + sandbox.output());
            assertFalse(Files.exists(config.getParent()), "the sandbox removes " + config.getParent());
        }
    }

    private static Connection connect(PgReshardConfig cfg, Shard shard) throws Exception {
        Properties p = new Properties();
        p.setProperty("user", DemoServers.SUPERUSER);
        p.setProperty("password", DemoServers.SUPERUSER);
        return DriverManager.getConnection("jdbc:postgresql://" + shard.host() + ":" + shard.port() + "/"
                + shard.databaseName(), p);
    }

    private static long count(Statement s, String sql) throws Exception {
        try (ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }
}
