package dev.pgreshard.activities.preflight;

import dev.pgreshard.activities.catalog.NotRetryableException;
import dev.pgreshard.activities.support.Clusters;
import dev.pgreshard.core.config.ConfigLoader;
import dev.pgreshard.core.config.PgReshardConfig;
import dev.pgreshard.core.pg.PgConnector;
import dev.pgreshard.testkit.FreePorts;
import dev.pgreshard.testkit.PostgresExtension;
import dev.pgreshard.testkit.TestDatabase;
import dev.pgreshard.workflows.preflight.PreflightReport;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import java.sql.Connection;
import java.sql.Statement;
import java.util.List;

import static dev.pgreshard.activities.support.Clusters.TASK;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Every preflight failure, each asserting the message names the database, the table and the fix. */
@ExtendWith(PostgresExtension.class)
class PreflightTest {

    private static String fail(PgReshardConfig config) {
        return assertThrows(NotRetryableException.class, () -> new Preflight(config, new PgConnector(config)).check(TASK))
                .getMessage();
    }

    private static void assertContains(String message, String expected) {
        assertTrue(message.contains(expected), "expected «" + expected + "» in: " + message);
    }

    @Test
    void tableProblemsAreAllReportedWithTheirFix(TestDatabase src, TestDatabase dst0, TestDatabase dst1) {
        src.execute("""
                CREATE TABLE public.events (id bigint, body text);
                CREATE TABLE public.orders (id bigint PRIMARY KEY, cust bigint);
                CREATE TABLE public.accounts (id text PRIMARY KEY);
                CREATE TABLE public.items (id bigint PRIMARY KEY, tenant bigint);
                CREATE TABLE public.notes (id bigint PRIMARY KEY);
                CREATE TABLE public.quiet (id bigint PRIMARY KEY);
                ALTER TABLE public.quiet REPLICA IDENTITY NOTHING;
                CREATE TYPE public.point3 AS (x int, y int, z int);
                CREATE TABLE public.shapes (id bigint PRIMARY KEY, p public.point3);
                CREATE PUBLICATION pub FOR TABLE public.events, public.orders, public.accounts, public.items,
                    public.notes, public.quiet, public.shapes;
                """);
        dst1.execute("CREATE TABLE public.notes (id bigint PRIMARY KEY)", "INSERT INTO public.notes VALUES (1)");
        PgReshardConfig config = Clusters.config(List.of(src), List.of(dst0, dst1),
                Clusters.sharded("orders", "customer_id", "bigint") + Clusters.sharded("accounts", "id", "bigint")
                        + Clusters.sharded("items", "tenant", "bigint"));
        String m = fail(config);
        assertContains(m, "table public.events has no primary key on source src shard 0 (127.0.0.1:");
        assertContains(m, "add one (ALTER TABLE \"public\".\"events\" ADD PRIMARY KEY (...);) or ALTER TABLE \"public\".\"events\" REPLICA IDENTITY FULL;");
        assertContains(m, "table public.orders has no column \"customer_id\" on source src shard 0");
        assertContains(m, "fix column in its [[sharded_tables]] entry");
        assertContains(m, "shard-key column public.accounts.id is text on source src shard 0");
        assertContains(m, "[[sharded_tables]] says data_type = \"bigint\"; set data_type to the column's type");
        assertContains(m, "shard-key column public.items.tenant is not part of the replica identity [id]");
        assertContains(m, "CREATE UNIQUE INDEX CONCURRENTLY \"items_id_tenant_key\" ON \"public\".\"items\" (\"id\", \"tenant\"); "
                + "ALTER TABLE \"public\".\"items\" REPLICA IDENTITY USING INDEX \"items_id_tenant_key\";");
        assertContains(m, "table public.quiet on source src shard 0");
        assertContains(m, "REPLICA IDENTITY NOTHING");
        assertContains(m, "column public.shapes.p on source src shard 0 (");
        assertContains(m, "has type point3 (a composite type)");
        assertContains(m, "change the column type or leave the table out of the publication");
        assertContains(m, "table public.notes already has rows on destination dst shard 1 (");
        assertContains(m, "empty the moved tables in one statement (TRUNCATE ");
        assertContains(m, "\"public\".\"notes\"");
    }

    @Test
    void missingPublicationAndTooFewSlots(TestDatabase src, TestDatabase dst) {
        PgReshardConfig config = Clusters.config(List.of(src), List.of(dst), "[general]\ncopy_parallelism = 100\n");
        String m = fail(config);
        assertContains(m, "publication 'pub' does not exist on source src shard 0 (127.0.0.1:");
        assertContains(m, "CREATE PUBLICATION \"pub\" FOR TABLE");
        assertContains(m, "free replication slots, needs 101 (1 permanent slot per source shard + 100 for parallel copy)");
        assertContains(m, "raise max_replication_slots");
        assertContains(m, "free wal senders, needs 101");
    }

    @Test
    void unreachableServer(TestDatabase src, TestDatabase dst) {
        src.execute("CREATE TABLE t (id bigint PRIMARY KEY)", "CREATE PUBLICATION pub FOR TABLE t");
        int closedPort = FreePorts.next();
        String toml = src.databasesEntry("src", 0) + dst.databasesEntry("dst", 0)
                + dst.databasesEntry("dst", 1).replace("port = " + dst.server().port(), "port = " + closedPort);
        PgReshardConfig unreachable = ConfigLoader.parse("pgreshard.toml", toml, "users.toml", Clusters.users(src));
        String m = fail(unreachable);
        assertContains(m, "dst shard 1 (127.0.0.1:" + closedPort + "/");
        assertContains(m, "cannot connect");
        assertContains(m, "check host/port in pgreshard.toml and that the server is running");
    }

    /** A server of its own: wal_level = replica and password authentication (the shared one trusts local users). */
    @Test
    void walLevelReplicaAndWrongPassword(TestDatabase dst, @TempDir Path dataDir) throws Exception {
        try (EmbeddedPostgres server = EmbeddedPostgres.builder().setDataDirectory(dataDir).setCleanDataDirectory(true)
                .setServerConfig("wal_level", "replica").start()) {
            try (Connection c = server.getPostgresDatabase().getConnection(); Statement s = c.createStatement()) {
                s.execute("ALTER USER postgres PASSWORD 'postgres'");
                s.execute("CREATE TABLE t (id bigint PRIMARY KEY)");
                s.execute("CREATE PUBLICATION pub FOR TABLE t");
                Files.writeString(dataDir.resolve("pg_hba.conf"), "local all all trust\n"
                        + "host all all 127.0.0.1/32 scram-sha-256\nhost all all ::1/128 scram-sha-256\n");
                s.execute("SELECT pg_reload_conf()");
            }
            String source = "[[databases]]\nname = \"src\"\nhost = \"127.0.0.1\"\nport = " + server.getPort()
                    + "\ndatabase_name = \"postgres\"\n";
            PgReshardConfig config = ConfigLoader.parse("pgreshard.toml", source + dst.databasesEntry("dst", 0),
                    "users.toml", Clusters.users(dst));
            String m = fail(config);
            assertContains(m, "source src shard 0 (127.0.0.1:" + server.getPort()
                    + "/postgres) has wal_level = replica; ALTER SYSTEM SET wal_level = logical; (as a superuser) then restart the server");

            String users = dst.usersEntry("src").replace("password = \"" + dst.server().password(), "password = \"s3cret-wrong")
                    + dst.usersEntry("dst");
            PgReshardConfig wrongPassword = ConfigLoader.parse("pgreshard.toml", source + dst.databasesEntry("dst", 0),
                    "users.toml", users);
            m = fail(wrongPassword);
            assertContains(m, "src shard 0 (127.0.0.1:" + server.getPort() + "/postgres): authentication failed for "
                    + "user 'postgres'; check that user's password in users.toml");
            assertTrue(!m.contains("s3cret"), "no password in the message: " + m);
        }
    }

    @Test
    void aTableTheMultiShardSourceDoesNotShardMustBeTheSameOnEveryShard(TestDatabase src0, TestDatabase src1,
                                                                          TestDatabase dst) {
        for (TestDatabase s : List.of(src0, src1)) {
            s.execute("CREATE TABLE plans (code text PRIMARY KEY)", "CREATE TABLE users (id bigint PRIMARY KEY)",
                    "CREATE PUBLICATION pub FOR TABLE plans, users");
        }
        src0.execute("INSERT INTO plans VALUES ('free'), ('pro')", "INSERT INTO users VALUES (1)");
        src1.execute("INSERT INTO plans VALUES ('free'), ('pro')", "INSERT INTO users VALUES (2), (3)");
        PgReshardConfig config = Clusters.config(List.of(src0, src1), List.of(dst), "");
        String m = fail(config);
        assertContains(m, "table public.users is not sharded on source 'src' (no [[sharded_tables]] entry for database "
                + "\"src\"), so it must be the same on every source shard, but the shards hold [1, 2] rows");
        assertTrue(!m.contains("plans"), m);
        PgReshardConfig fixed = Clusters.config(List.of(src0, src1), List.of(dst),
                Clusters.shardedIn("src", "users", "id", "bigint"));
        assertEquals(2, new Preflight(fixed, new PgConnector(fixed)).check(TASK).tables().size());
    }

    @Test
    void aHealthyTaskPassesWithWarnings(TestDatabase src, TestDatabase dst) {
        src.execute("CREATE TABLE big (id bigint PRIMARY KEY, v text)", "CREATE TABLE small (id bigint PRIMARY KEY)",
                "INSERT INTO big SELECT g, repeat('x', 100) FROM generate_series(1, 5000) g",
                "INSERT INTO small VALUES (1)", "ANALYZE",
                "CREATE PUBLICATION pub FOR TABLE small, big");
        dst.execute("CREATE TABLE big (id bigint PRIMARY KEY, v text)");
        PgReshardConfig config = Clusters.config(List.of(src), List.of(dst),
                Clusters.sharded("big", "id", "bigint") + Clusters.sharded("other", "id", "bigint"));
        PreflightReport report = new Preflight(config, new PgConnector(config)).check(TASK);
        assertEquals("big", report.tables().get(0).table().name(), "largest first");
        assertEquals(5000, report.tables().get(0).estimatedRows());
        assertTrue(report.tables().get(0).sharded());
        assertEquals(List.of("[[sharded_tables]] public.other of 'dst' is not in publication 'pub' and will not be moved"),
                report.warnings());
    }
}
