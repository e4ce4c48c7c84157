package dev.pgreshard.proxy.twophase;

import dev.pgreshard.core.config.ConfigLoader;
import dev.pgreshard.core.config.PgReshardConfig;
import dev.pgreshard.testkit.FreePorts;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import org.junit.jupiter.api.Test;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Clients prepare their transactions as their own server roles, and PostgreSQL lets only that role (or a
 * superuser) finish one: recovery, which logs in as the worker's non-superuser role, must finish each
 * as its owner, and name the fix when users.toml has no entry for that role.
 */
class PreparedRecoveryOwnerTest {

    @Test
    void finishesEachPreparedTransactionAsTheRoleThatPreparedIt() throws Exception {
        try (EmbeddedPostgres pg = EmbeddedPostgres.builder().setPort(FreePorts.next())
                .setServerConfig("max_prepared_transactions", "10").start()) {
            try (Connection c = pg.getPostgresDatabase().getConnection(); Statement s = c.createStatement()) {
                s.execute("CREATE ROLE worker LOGIN PASSWORD 'worker-pw'");
                s.execute("CREATE ROLE app LOGIN PASSWORD 'app-pw'");
                s.execute("CREATE ROLE stranger LOGIN PASSWORD 'stranger-pw'");
                s.execute("CREATE DATABASE s0");
                s.execute("CREATE DATABASE s1");
            }
            prepare(pg, "s0", "app", "app-pw", "pgreshard_t1_7_0");
            prepare(pg, "s1", "app", "app-pw", "pgreshard_t1_7_1");
            prepare(pg, "s0", "worker", "worker-pw", "pgreshard_t1_8_0");
            prepare(pg, "s1", "stranger", "stranger-pw", "pgreshard_t1_9_1");

            InMemoryDecisions decisions = new InMemoryDecisions();
            decisions.decide("pgreshard_t1_7", DecisionLog.Outcome.COMMIT, "dst shard 0, dst shard 1", "t1");
            PreparedRecovery recovery = new PreparedRecovery(config(pg), () -> decisions, Duration.ZERO, r -> { });
            PreparedRecovery.Report report = recovery.recover();

            Map<String, String> results = new ConcurrentHashMap<>();
            report.actions().forEach(a -> results.put(a.gid(), a.result()));
            assertEquals("committed", results.get("pgreshard_t1_7_0"), report.toString());
            assertEquals("committed", results.get("pgreshard_t1_7_1"), report.toString());
            assertEquals("rolled back", results.get("pgreshard_t1_8_0"), report.toString());
            String stranger = results.get("pgreshard_t1_9_1");
            assertTrue(stranger.startsWith("failed: prepared by role stranger") && stranger.contains("server_user is stranger"),
                    stranger);
            assertEquals(List.of("pgreshard_t1_9_1"), prepared(pg));

            try (Connection c = pg.getDatabase("postgres", "s1").getConnection(); Statement s = c.createStatement()) {
                s.execute("ROLLBACK PREPARED 'pgreshard_t1_9_1'"); // a prepared transaction is finished in its database
            }
            assertEquals(List.of(), prepared(pg));
        }
    }

    private static void prepare(EmbeddedPostgres pg, String db, String user, String password, String gid) throws Exception {
        try (Connection c = DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + pg.getPort() + "/" + db, user,
                password); Statement s = c.createStatement()) {
            s.execute("BEGIN");
            s.execute("SELECT 1");
            s.execute("PREPARE TRANSACTION '" + gid + "'");
        }
    }

    private static List<String> prepared(EmbeddedPostgres pg) throws Exception {
        List<String> out = new ArrayList<>();
        try (Connection c = pg.getPostgresDatabase().getConnection(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT gid FROM pg_prepared_xacts ORDER BY gid")) {
            while (rs.next()) {
                out.add(rs.getString(1));
            }
        }
        return out;
    }

    private static PgReshardConfig config(EmbeddedPostgres pg) {
        StringBuilder toml = new StringBuilder("[admin]\nuser = \"admin\"\npassword = \"x\"\n");
        for (int i = 0; i < 2; i++) {
            toml.append("[[databases]]\nname = \"dst\"\nhost = \"127.0.0.1\"\nport = ").append(pg.getPort())
                    .append("\ndatabase_name = \"s").append(i).append("\"\nshard = ").append(i).append('\n');
        }
        // the first entry is the worker's own login (not a superuser); the second is the application's
        String users = "[[users]]\nname = \"pgreshard\"\ndatabase = \"dst\"\npassword = \"p\"\nserver_user = \"worker\"\n"
                + "server_password = \"worker-pw\"\n"
                + "[[users]]\nname = \"shop\"\ndatabase = \"dst\"\npassword = \"q\"\nserver_user = \"app\"\n"
                + "server_password = \"app-pw\"\n";
        return ConfigLoader.parse("pgreshard.toml", toml.toString(), "users.toml", users);
    }
}
