package dev.pgreshard.proxy;

import dev.pgreshard.testkit.PostgresExtension;
import dev.pgreshard.testkit.TestDatabase;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** psql and pgbench (simple, extended, prepared) through the proxy to one shard, with and without TLS. */
@ExtendWith(PostgresExtension.class)
class CommandLineClientsTest {

    @Test
    void psqlAndPgbenchInEveryQueryModeToOneShard(TestDatabase db) throws Exception {
        try (ProxyFixture proxy = new ProxyFixture().cluster("prod", db).start()) {
            Tools.Result r = Tools.psql(proxy, "prod", "CREATE TABLE t (id int); INSERT INTO t VALUES (1), (2); SELECT sum(id) FROM t");
            assertEquals(0, r.exitCode(), r.output());
            assertTrue(r.output().contains("3"), r.output());
            Tools.Result bad = Tools.psql(proxy, "prod", "SELECT * FROM missing_table");
            assertEquals(1, bad.exitCode(), bad.output());
            assertTrue(bad.output().contains("does not exist"), bad.output());

            Tools.Result init = Tools.pgbench(proxy, "prod", "-i", "-s", "1", "-q");
            assertEquals(0, init.exitCode(), init.output());
            for (String mode : new String[] {"simple", "extended", "prepared"}) {
                Tools.Result run = Tools.pgbench(proxy, "prod", "-n", "-M", mode, "-c", "4", "-j", "2", "-t", "100");
                assertEquals(0, run.exitCode(), mode + ": " + run.output());
                assertTrue(run.output().contains("number of transactions actually processed: 400/400"), run.output());
                Tools.Result ro = Tools.pgbench(proxy, "prod", "-n", "-S", "-M", mode, "-c", "4", "-j", "2", "-t", "200");
                assertEquals(0, ro.exitCode(), mode + ": " + ro.output());
            }
            assertEquals(1200, db.queryLong("SELECT count(*) FROM pgbench_history"));
        }
    }

    @Test
    void tlsWhenACertificateIsConfigured(TestDatabase db) throws Exception {
        Path dir = Files.createTempDirectory("pgreshard-tls");
        Path cert = dir.resolve("server.crt");
        Path key = dir.resolve("server.key");
        Tools.Result gen = Tools.run(Map.of(), "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                "-subj", "/CN=localhost", "-keyout", key.toString(), "-out", cert.toString());
        assertEquals(0, gen.exitCode(), gen.output());
        try (ProxyFixture proxy = new ProxyFixture().cluster("prod", db)
                .general("tls_certificate = \"" + cert + "\"\ntls_private_key = \"" + key + "\"").start()) {
            Tools.Result r = Tools.run(Map.of("PGPASSWORD", ProxyFixture.PASSWORD, "PGSSLMODE", "require"),
                    "/usr/bin/psql", "-X", "-A", "-t", "-h", "127.0.0.1", "-p", String.valueOf(proxy.port()),
                    "-U", ProxyFixture.USER, "-d", "prod", "-c", "SELECT 'over tls'");
            assertEquals(0, r.exitCode(), r.output());
            assertTrue(r.output().contains("over tls"), r.output());
            java.util.Properties p = new java.util.Properties();
            p.setProperty("sslmode", "require");
            try (var c = proxy.connect("prod", ProxyFixture.USER, ProxyFixture.PASSWORD, p)) {
                assertEquals(1, PassThroughTest.count(c, "SELECT 1"));
            }
        }
    }
}
