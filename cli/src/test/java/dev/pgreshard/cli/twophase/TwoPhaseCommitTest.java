package dev.pgreshard.cli.twophase;

import dev.pgreshard.cli.PgReshardCommand;
import dev.pgreshard.testkit.ChildJvm;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Multi-shard writes through a real proxy process commit on every shard or on none, including when
 * the proxy is SIGKILLed (halted by the test fault hook) between PREPARE and the decision or between
 * the decision and the last COMMIT PREPARED, and when the shards' server restarts mid-commit; nothing
 * stays prepared in the end.
 */
class TwoPhaseCommitTest {
    private static final Duration RECOVERY = Duration.ofSeconds(40);

    @Test
    void multiShardWritesCommitEverywhereOrNowhere(@TempDir Path dir) throws Exception {
        try (TwoPhaseCluster c = new TwoPhaseCluster(dir, true)) {
            c.startInProcess();
            List<Long> s0 = TwoPhaseCluster.idsOn(0, 1, 4);
            List<Long> s1 = TwoPhaseCluster.idsOn(1, 1, 4);
            try (Connection app = c.client(); Statement st = app.createStatement()) {
                app.setAutoCommit(false);
                st.execute("INSERT INTO accounts (id, email, balance) VALUES (" + s0.get(0) + ", 'a@x', 100), (" + s1.get(0) + ", 'b@x', 0)");
                st.execute("INSERT INTO accounts (id, email, balance) VALUES (" + s1.get(1) + ", 'c@x', 5)");
                app.commit();
                assertEquals(1, c.d0.queryLong("SELECT count(*) FROM accounts"));
                assertEquals(2, c.d1.queryLong("SELECT count(*) FROM accounts"));

                // the outside writer's shape: insert on one shard, update there, delete on another
                st.execute("INSERT INTO accounts (id, email, balance) VALUES (" + s0.get(1) + ", 'd@x', 100)");
                st.execute("UPDATE accounts SET balance = balance + 1 WHERE id = " + s0.get(1));
                st.execute("DELETE FROM accounts WHERE id = " + s1.get(1));
                app.commit();
                assertEquals(2, c.d0.queryLong("SELECT count(*) FROM accounts"));
                assertEquals(1, c.d1.queryLong("SELECT count(*) FROM accounts"));

                // a deferred unique constraint fails at PREPARE on shard 1 only: shard 0's insert is rolled back too
                st.execute("INSERT INTO accounts (id, email, balance) VALUES (" + s0.get(2) + ", 'e@x', 1)");
                st.execute("INSERT INTO accounts (id, email, balance) VALUES (" + s1.get(2) + ", 'dup@x', 1), (" + s1.get(3) + ", 'dup@x', 1)");
                SQLException deferred = assertThrows(SQLException.class, app::commit);
                assertEquals("23505", deferred.getSQLState(), deferred.getMessage());
                assertTrue(deferred.getMessage().contains("accounts_email"), deferred.getMessage());
                assertEquals(0, c.rows("id IN (" + s0.get(2) + ", " + s1.get(2) + ", " + s1.get(3) + ")"));
                // the session goes on: the next transaction works
                st.execute("UPDATE accounts SET email = email WHERE id = " + s0.get(0));
                app.commit();
            }
            try (Connection app = c.client(); Statement st = app.createStatement()) {
                // autocommit statements that write on every shard are one implicit transaction
                assertEquals(3, st.executeUpdate("UPDATE accounts SET balance = balance + 1"));
                SQLException check = assertThrows(SQLException.class,
                        () -> st.executeUpdate("UPDATE accounts SET balance = balance - 50"));
                assertEquals("23514", check.getSQLState(), check.getMessage()); // shard 1's 'b@x' would go negative
                assertEquals(101, c.d0.queryLong("SELECT balance FROM accounts WHERE id = " + s0.get(0)),
                        "shard 0's rows must not change when shard 1 failed");
                st.executeUpdate("INSERT INTO regions VALUES ('eu', 'Europe')");
                c.d1.execute("INSERT INTO regions VALUES ('us', 'only on shard 1')");
                SQLException dup = assertThrows(SQLException.class,
                        () -> st.executeUpdate("INSERT INTO regions VALUES ('us', 'Americas')"));
                assertEquals("23505", dup.getSQLState(), dup.getMessage());
                assertEquals(List.of(List.of("eu")), c.d0.queryRows("SELECT code FROM regions"),
                        "the omnisharded copies stay equal: shard 0 must not keep the failed insert");
            }
            assertEquals(0, c.prepared());
            TwoPhaseCluster.await("commit decisions removed", Duration.ofSeconds(10), () -> c.decisions("commit") == 0);
            assertEquals(0, c.decisions("abort"));
        }
    }

    @Test
    void proxyKilledAfterPrepareIsRolledBackByRecovery(@TempDir Path dir) throws Exception {
        try (TwoPhaseCluster c = new TwoPhaseCluster(dir, true)) {
            String ids = haltMidCommit(c, "after-prepare", 100);
            assertEquals(2, c.prepared(), "both shards prepared, no decision");
            assertEquals(0, c.decisions("commit"));
            String list = cli(c, "recover-prepared", "--list");
            assertTrue(list.contains("pgreshard_") && list.contains("\tnone"), list);

            c.startInProcess(); // a new proxy's recovery loop resolves them
            TwoPhaseCluster.await("recovery to roll back", RECOVERY, () -> c.prepared() == 0);
            assertEquals(0, c.rows("id IN (" + ids + ")"));
            assertEquals(1, c.decisions("abort"), "recovery fenced the transaction with an abort decision");
        }
    }

    @Test
    void proxyKilledAfterTheDecisionIsCommittedByRecovery(@TempDir Path dir) throws Exception {
        try (TwoPhaseCluster c = new TwoPhaseCluster(dir, true)) {
            String ids = haltMidCommit(c, "after-first-commit", 200);
            assertEquals(1, c.prepared(), "one shard committed, the other still prepared");
            assertEquals(1, c.rows("id IN (" + ids + ")"));
            assertEquals(1, c.decisions("commit"));

            // by hand, once the transaction is older than recovery's minimum age
            Thread.sleep(5500);
            String out = cli(c, "recover-prepared");
            assertTrue(out.contains("\tcommit\tcommitted"), out);
            assertEquals(0, c.prepared());
            assertEquals(2, c.rows("id IN (" + ids + ")"));
            assertEquals(0, c.decisions("commit"), "the decision is removed once every shard committed");
        }
    }

    @Test
    void shardServerRestartMidCommitIsResolved(@TempDir Path dir) throws Exception {
        try (TwoPhaseCluster c = new TwoPhaseCluster(dir, true)) {
            ChildJvm proxy = c.startProxy("delay-after-decision");
            long a = TwoPhaseCluster.idsOn(0, 300, 1).get(0);
            long b = TwoPhaseCluster.idsOn(1, 300, 1).get(0);
            CompletableFuture<Void> commit = commitTwoRowsAsync(c, a, b);
            TwoPhaseCluster.await("the commit decision", Duration.ofSeconds(20), () -> c.decisions("commit") == 1);
            c.shardServer.restart(); // while the proxy waits before COMMIT PREPARED
            // the session's shard connections died mid-commit: the client is told so, the decision stands
            assertThrows(java.util.concurrent.ExecutionException.class, () -> commit.get(60, TimeUnit.SECONDS));
            TwoPhaseCluster.await("the live proxy's recovery to commit", RECOVERY, () -> c.prepared() == 0);
            assertEquals(2, c.rows("id IN (" + a + ", " + b + ")"));
            assertTrue(proxy.isAlive());
            assertEquals(List.of(), showPrepared(c), "SHOW PREPARED: nothing in doubt");
            TwoPhaseCluster.await("the decision removed", RECOVERY, () -> c.decisions("commit") == 0);
        }
    }

    /**
     * A cutover's pause drains in-flight transactions before it swaps: a session in the middle of a
     * two-phase commit counts as in flight until every COMMIT PREPARED answered, so no prepared but
     * unresolved transaction straddles the swap.
     */
    @Test
    void pauseCountsATwoPhaseCommitInFlightUntilItEnded(@TempDir Path dir) throws Exception {
        try (TwoPhaseCluster c = new TwoPhaseCluster(dir, true)) {
            c.startProxy("delay-after-decision");
            long a = TwoPhaseCluster.idsOn(0, 500, 1).get(0);
            long b = TwoPhaseCluster.idsOn(1, 500, 1).get(0);
            CompletableFuture<Void> commit = commitTwoRowsAsync(c, a, b);
            TwoPhaseCluster.await("the commit decision", Duration.ofSeconds(20), () -> c.decisions("commit") == 1);
            assertEquals(2, c.prepared());
            assertEquals("1", admin(c, "PAUSE dst").get(2), "the committing session is in flight");
            commit.get(30, TimeUnit.SECONDS); // the paused proxy lets the transaction already in flight finish
            assertEquals(0, c.prepared());
            assertEquals("0", admin(c, "PAUSE dst").get(2), "drained: nothing prepared is left to straddle a swap");
            admin(c, "RESUME dst");
            assertEquals(2, c.rows("id IN (" + a + ", " + b + ")"));
        }
    }

    private static List<String> admin(TwoPhaseCluster c, String command) throws SQLException {
        try (Connection admin = DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + c.port
                + "/admin?sslmode=disable&preferQueryMode=simple", "admin", "admin-pw-2pc");
             Statement s = admin.createStatement(); ResultSet rs = s.executeQuery(command)) {
            assertTrue(rs.next());
            List<String> row = new ArrayList<>();
            for (int i = 1; i <= rs.getMetaData().getColumnCount(); i++) {
                row.add(rs.getString(i));
            }
            return row;
        }
    }

    @Test
    void withTwoPhaseCommitOffMultiShardTransactionsAreRefused(@TempDir Path dir) throws Exception {
        try (TwoPhaseCluster c = new TwoPhaseCluster(dir, false)) {
            c.startInProcess();
            long a = TwoPhaseCluster.idsOn(0, 400, 1).get(0);
            long b = TwoPhaseCluster.idsOn(1, 400, 1).get(0);
            SQLException refused = assertThrows(SQLException.class, () -> commitTwoRows(c, a, b));
            assertEquals("0A000", refused.getSQLState());
            assertTrue(refused.getMessage().contains("two_phase_commit"), refused.getMessage());
            assertEquals(0, c.rows("id IN (" + a + ", " + b + ")"));
            assertEquals(0, c.prepared());
        }
    }

    /**
     * A proxy armed to halt at {@code haltAt} (like a SIGKILL: no shutdown hooks) commits a row on each
     * shard; returns the two ids as "a, b" once the proxy is dead.
     */
    private static String haltMidCommit(TwoPhaseCluster c, String haltAt, long from) throws Exception {
        ChildJvm doomed = c.startProxy(haltAt);
        long a = TwoPhaseCluster.idsOn(0, from, 1).get(0);
        long b = TwoPhaseCluster.idsOn(1, from, 1).get(0);
        assertThrows(SQLException.class, () -> commitTwoRows(c, a, b));
        assertEquals(137, doomed.waitFor(30, TimeUnit.SECONDS), c.output());
        return a + ", " + b;
    }

    private static CompletableFuture<Void> commitTwoRowsAsync(TwoPhaseCluster c, long a, long b) {
        return CompletableFuture.runAsync(() -> {
            try {
                commitTwoRows(c, a, b);
            } catch (SQLException e) {
                throw new IllegalStateException(e);
            }
        });
    }

    private static void commitTwoRows(TwoPhaseCluster c, long a, long b) throws SQLException {
        try (Connection app = c.client(); Statement st = app.createStatement()) {
            app.setAutoCommit(false);
            st.execute("INSERT INTO accounts (id, email, balance) VALUES (" + a + ", 'a" + a + "', 1)");
            st.execute("INSERT INTO accounts (id, email, balance) VALUES (" + b + ", 'b" + b + "', 1)");
            app.commit();
        }
    }

    private static List<List<String>> showPrepared(TwoPhaseCluster c) throws SQLException {
        List<List<String>> rows = new ArrayList<>();
        try (Connection admin = DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + c.port
                + "/admin?sslmode=disable&preferQueryMode=simple", "admin", "admin-pw-2pc");
             Statement s = admin.createStatement(); ResultSet rs = s.executeQuery("SHOW PREPARED")) {
            assertEquals(4, rs.getMetaData().getColumnCount());
            while (rs.next()) {
                rows.add(List.of(rs.getString(1), rs.getString(2), rs.getString(3), rs.getString(4)));
            }
        }
        return rows;
    }

    private static String cli(TwoPhaseCluster c, String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        List<String> all = new ArrayList<>(List.of(args));
        all.addAll(List.of("--config", c.config.toString()));
        int code = PgReshardCommand.execute(new PrintWriter(out, true), new PrintWriter(err, true), all.toArray(String[]::new));
        assertEquals(0, code, out + "\n" + err);
        assertFalse(out.toString().isEmpty());
        return out.toString();
    }
}
