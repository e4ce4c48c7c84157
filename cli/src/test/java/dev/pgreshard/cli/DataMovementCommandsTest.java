package dev.pgreshard.cli;

import dev.pgreshard.testkit.PostgresExtension;
import dev.pgreshard.testkit.TestDatabase;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** schema-sync, data-sync --sync-only and verify as an operator runs them. */
@ExtendWith(PostgresExtension.class)
class DataMovementCommandsTest {

    record Result(int exit, String out, String err) {
    }

    static Result run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int exit = PgReshardCommand.execute(new PrintWriter(out, true), new PrintWriter(err, true), args);
        return new Result(exit, out.toString(), err.toString());
    }

    private static String config(Path dir, TestDatabase src, TestDatabase d0, TestDatabase d1) throws Exception {
        Path file = dir.resolve("pgreshard.toml");
        Files.writeString(file, src.databasesEntry("app", 0) + d0.databasesEntry("app_sharded", 0)
                + d1.databasesEntry("app_sharded", 1)
                + "[[sharded_tables]]\ndatabase = \"app_sharded\"\nname = \"crm.Contacts\"\ncolumn = \"AccountId\"\n"
                + "data_type = \"integer\"\n");
        Files.writeString(dir.resolve("users.toml"), src.usersEntry("app") + src.usersEntry("app_sharded"));
        return file.toString();
    }

    @Test
    void syncOnlyCopyThenVerifyAndCatchADifference(TestDatabase src, TestDatabase d0, TestDatabase d1, @TempDir Path dir)
            throws Exception {
        src.execute("""
                CREATE SCHEMA crm;
                CREATE TABLE crm."Contacts" ("AccountId" integer, id bigserial, name text, tags text[],
                    PRIMARY KEY ("AccountId", id));
                CREATE TABLE crm.plans (code text PRIMARY KEY, price numeric);
                INSERT INTO crm."Contacts" ("AccountId", name, tags)
                    SELECT g % 37, 'name ' || g || ' ñ', ARRAY['t' || g] FROM generate_series(1, 3000) g;
                INSERT INTO crm.plans VALUES ('free', 0), ('pro', 9.99);
                CREATE PUBLICATION crm_pub FOR TABLE crm."Contacts", crm.plans;
                """);
        String cfg = config(dir, src, d0, d1);

        Result dry = run("schema-sync", "app", "app_sharded", "crm_pub", "--dry-run", "--config", cfg);
        assertEquals(0, dry.exit(), dry.err());
        assertTrue(dry.out().contains("CREATE TABLE crm.\"Contacts\""), dry.out());
        assertEquals(0, d0.queryLong("SELECT count(*) FROM pg_namespace WHERE nspname = 'crm'"), "dry run changes nothing");

        Result pre = run("schema-sync", "app", "app_sharded", "crm_pub", "--config", cfg);
        assertEquals(0, pre.exit(), pre.err());
        assertTrue(pre.out().contains("schema-sync pre-data: "), pre.out());

        Result copy = run("data-sync", "app", "app_sharded", "crm_pub", "--sync-only", "--config", cfg);
        assertEquals(0, copy.exit(), copy.err());
        assertTrue(copy.out().contains("data-sync: copied 2 table(s), 3004 rows"), copy.out());
        assertTrue(copy.out().contains("crm.Contacts"), copy.out());
        assertEquals(3000, d0.queryLong("SELECT count(*) FROM crm.\"Contacts\"")
                + d1.queryLong("SELECT count(*) FROM crm.\"Contacts\""));

        Result again = run("data-sync", "app", "app_sharded", "crm_pub", "--sync-only", "--config", cfg);
        assertEquals(1, again.exit());
        assertTrue(again.err().contains("tables [crm.Contacts, crm.plans] already have rows on destination app_sharded "
                + "shard 0") && again.err().contains("TRUNCATE \"crm\".\"Contacts\", \"crm\".\"plans\";"), again.err());

        Result post = run("schema-sync", "app", "app_sharded", "crm_pub", "--phase", "post", "--config", cfg);
        assertEquals(0, post.exit(), post.err());

        Result ok = run("verify", "app", "app_sharded", "crm_pub", "--config", cfg);
        assertEquals(0, ok.exit(), ok.out() + ok.err());
        assertTrue(ok.out().lines().anyMatch(l -> l.matches("crm\\.Contacts\\s+3000\\s+3000\\s+0\\s+ok")), ok.out());
        assertTrue(ok.out().lines().anyMatch(l -> l.matches("crm\\.plans\\s+2\\s+2\\s+0\\s+ok")), ok.out());

        d1.execute("DELETE FROM crm.plans WHERE code = 'pro'");
        Result bad = run("verify", "app", "app_sharded", "crm_pub", "--config", cfg);
        assertEquals(1, bad.exit());
        assertTrue(bad.out().lines().anyMatch(l -> l.matches("crm\\.plans\\s+2\\s+1\\s+0\\s+MISMATCH")), bad.out());
        assertTrue(bad.err().startsWith("pgreshard: verification failed: 1 problem(s); table crm.plans on app_sharded "
                + "shard 1 ("), bad.err());
        assertEquals(1, bad.err().lines().count());
    }

    @Test
    void continuousDataSyncReplicatesThenResumesThenDrops(TestDatabase src, TestDatabase d0, TestDatabase d1,
                                                          @TempDir Path dir) throws Exception {
        src.execute("""
                CREATE SCHEMA crm;
                CREATE TABLE crm."Contacts" ("AccountId" integer, id bigint, name text, PRIMARY KEY ("AccountId", id));
                INSERT INTO crm."Contacts" SELECT g % 37, g, 'name ' || g FROM generate_series(1, 2000) g;
                CREATE PUBLICATION crm_pub FOR TABLE crm."Contacts";
                """);
        String cfg = config(dir, src, d0, d1);
        assertEquals(0, run("schema-sync", "app", "app_sharded", "crm_pub", "--config", cfg).exit());

        Result[] first = new Result[1];
        Thread sync = new Thread(() -> first[0] = run("data-sync", "app", "app_sharded", "crm_pub", "--config", cfg));
        sync.start();
        awaitRows(d0, d1, 2000);
        src.execute("INSERT INTO crm.\"Contacts\" SELECT g % 37, g, 'late' FROM generate_series(2001, 2100) g",
                "UPDATE crm.\"Contacts\" SET \"AccountId\" = \"AccountId\" + 1 WHERE id <= 50", // key moves
                "DELETE FROM crm.\"Contacts\" WHERE id BETWEEN 51 AND 60");
        awaitRows(d0, d1, 2090);
        sync.interrupt(); // what Ctrl-C does, without ending the test JVM
        sync.join(60_000);
        assertEquals(0, first[0].exit(), first[0].err());
        assertTrue(first[0].out().contains("replication stopped after"), first[0].out());
        assertEquals(1, src.queryLong("SELECT count(*) FROM pg_replication_slots WHERE database = current_database()"), "the slot is kept for a resume");

        src.execute("INSERT INTO crm.\"Contacts\" SELECT g % 37, g, 'while stopped' FROM generate_series(3001, 3100) g");
        Result[] resumed = new Result[1];
        Thread again = new Thread(() -> resumed[0] = run("data-sync", "app", "app_sharded", "crm_pub", "--replicate-only",
                "--config", cfg));
        again.start();
        awaitRows(d0, d1, 2190);
        again.interrupt();
        again.join(60_000);
        assertEquals(0, resumed[0].exit(), resumed[0].err());

        Result verify = run("verify", "app", "app_sharded", "crm_pub", "--config", cfg);
        assertEquals(0, verify.exit(), verify.out() + verify.err());

        Result drop = run("data-sync", "app", "app_sharded", "crm_pub", "--drop", "--config", cfg);
        assertEquals(0, drop.exit(), drop.err());
        assertEquals(0, src.queryLong("SELECT count(*) FROM pg_replication_slots WHERE database = current_database()"), "--drop leaves no slot");
        Result gone = run("data-sync", "app", "app_sharded", "crm_pub", "--replicate-only", "--config", cfg);
        assertEquals(2, gone.exit());
        assertTrue(gone.err().startsWith("pgreshard: no earlier data-sync of app into app_sharded"), gone.err());
    }

    /** The foreground data-sync outlives its connections: the walsender and the shard appliers killed under it. */
    @Test
    void foregroundDataSyncReconnectsAfterItsConnectionsAreKilled(TestDatabase src, TestDatabase d0, TestDatabase d1,
                                                                  @TempDir Path dir) throws Exception {
        src.execute("""
                CREATE SCHEMA crm;
                CREATE TABLE crm."Contacts" ("AccountId" integer, id bigint, name text, PRIMARY KEY ("AccountId", id));
                INSERT INTO crm."Contacts" SELECT g % 37, g, 'name ' || g FROM generate_series(1, 500) g;
                CREATE PUBLICATION crm_pub FOR TABLE crm."Contacts";
                """);
        String cfg = config(dir, src, d0, d1);
        assertEquals(0, run("schema-sync", "app", "app_sharded", "crm_pub", "--config", cfg).exit());
        Result[] result = new Result[1];
        Thread sync = new Thread(() -> result[0] = run("data-sync", "app", "app_sharded", "crm_pub", "--config", cfg));
        sync.start();
        awaitRows(d0, d1, 500);

        // "terminating connection due to administrator command" on the source's walsender, as a restart does
        src.execute("INSERT INTO crm.\"Contacts\" SELECT g % 37, g, 'before the cut' FROM generate_series(501, 600) g");
        awaitRows(d0, d1, 600);
        assertEquals(1, src.queryLong("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_replication"));
        src.execute("INSERT INTO crm.\"Contacts\" SELECT g % 37, g, 'while cut' FROM generate_series(601, 700) g");
        awaitRows(d0, d1, 700);

        // and every connection to a destination shard (a shard restart)
        for (TestDatabase d : List.of(d0, d1)) {
            d.queryLong("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = current_database() "
                    + "AND pid <> pg_backend_pid()");
        }
        src.execute("INSERT INTO crm.\"Contacts\" SELECT g % 37, g, 'after the shard cut' FROM generate_series(701, 800) g",
                "DELETE FROM crm.\"Contacts\" WHERE id <= 10");
        awaitRows(d0, d1, 790);

        sync.interrupt(); // Ctrl-C
        sync.join(60_000);
        assertEquals(0, result[0].exit(), result[0].out() + result[0].err());
        assertTrue(result[0].out().contains("data-sync: replication lost ("), result[0].out());
        assertTrue(result[0].out().contains("reconnecting in 1 s and resuming from slot"), result[0].out());
        Result verify = run("verify", "app", "app_sharded", "crm_pub", "--config", cfg);
        assertEquals(0, verify.exit(), verify.out() + verify.err());
        assertEquals(0, run("data-sync", "app", "app_sharded", "crm_pub", "--drop", "--config", cfg).exit());
    }

    private static void awaitRows(TestDatabase d0, TestDatabase d1, long expected) throws InterruptedException {
        long deadline = System.nanoTime() + java.time.Duration.ofSeconds(90).toNanos();
        long rows = -1;
        while (System.nanoTime() < deadline) {
            try {
                rows = d0.queryLong("SELECT count(*) FROM crm.\"Contacts\"") + d1.queryLong("SELECT count(*) FROM crm.\"Contacts\"");
            } catch (IllegalStateException tableNotThereYet) {
                rows = -1;
            }
            if (rows == expected) {
                return;
            }
            Thread.sleep(200);
        }
        throw new AssertionError("destination has " + rows + " rows, expected " + expected);
    }

    @Test
    void badInputIsExplained(TestDatabase src, TestDatabase d0, TestDatabase d1, @TempDir Path dir) throws Exception {
        String cfg = config(dir, src, d0, d1);
        Result phase = run("schema-sync", "app", "app_sharded", "crm_pub", "--phase", "middle", "--config", cfg);
        assertEquals(2, phase.exit());
        assertEquals("pgreshard: --phase phase must be pre or post, got 'middle'; use --phase pre or --phase post\n",
                phase.err());
        Result pub = run("verify", "app", "app_sharded", "nope", "--config", cfg);
        assertEquals(2, pub.exit(), "a missing publication is bad input");
        assertTrue(pub.err().startsWith("pgreshard: publication 'nope' does not exist on source app shard 0 ("), pub.err());
        Result db = run("data-sync", "app", "nowhere", "crm_pub", "--sync-only", "--config", cfg);
        assertEquals(2, db.exit());
        assertTrue(db.err().startsWith("pgreshard: unknown database 'nowhere'"), db.err());
    }
}
