package dev.pgreshard.proxy.twophase;

import dev.pgreshard.core.config.ConfigException;
import dev.pgreshard.core.config.ConfigLoader;
import dev.pgreshard.core.config.PgReshardConfig;
import dev.pgreshard.testkit.FreePorts;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import org.junit.jupiter.api.Test;

import java.sql.Connection;
import java.sql.Statement;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A shard without prepared transactions stops a proxy with two-phase commit on, with the setting and the fix named. */
class PreparedTransactionsCheckTest {

    @Test
    void namesTheShardTheSettingAndTheFix() throws Exception {
        try (EmbeddedPostgres pg = EmbeddedPostgres.builder().setPort(FreePorts.next())
                .setServerConfig("max_prepared_transactions", "0").start()) {
            try (Connection c = pg.getPostgresDatabase().getConnection(); Statement s = c.createStatement()) {
                s.execute("CREATE DATABASE s0");
                s.execute("CREATE DATABASE s1");
            }
            ConfigException e = assertThrows(ConfigException.class, () -> PreparedTransactionsCheck.check(config(pg, true)));
            assertTrue(e.getMessage().contains("max_prepared_transactions = 0: dst shard 0 (127.0.0.1:" + pg.getPort()
                    + "/s0), dst shard 1"), e.getMessage());
            assertTrue(e.getMessage().contains("set max_prepared_transactions to at least max_connections"), e.getMessage());
            assertTrue(e.getMessage().contains("two_phase_commit = false"), e.getMessage());
            assertDoesNotThrow(() -> PreparedTransactionsCheck.check(config(pg, false)));
        }
    }

    private static PgReshardConfig config(EmbeddedPostgres pg, boolean twoPhase) {
        String toml = "[general]\ntwo_phase_commit = " + twoPhase + "\n[admin]\nuser = \"admin\"\npassword = \"x\"\n";
        for (int i = 0; i < 2; i++) {
            toml += "[[databases]]\nname = \"dst\"\nhost = \"127.0.0.1\"\nport = " + pg.getPort() + "\ndatabase_name = \"s" + i
                    + "\"\nshard = " + i + "\n";
        }
        String users = "[[users]]\nname = \"app\"\ndatabase = \"dst\"\npassword = \"p\"\nserver_user = \"postgres\"\n"
                + "server_password = \"postgres\"\n";
        return ConfigLoader.parse("pgreshard.toml", toml, "users.toml", users);
    }
}
