package dev.pgreshard.proxy.twophase;

import dev.pgreshard.core.config.ConfigException;
import dev.pgreshard.core.config.PgReshardConfig;
import dev.pgreshard.core.pg.PgConnector;
import dev.pgreshard.core.topology.Shard;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;

/**
 * At proxy start with {@code [general] two_phase_commit = true}: every shard of a multi-shard cluster
 * must allow prepared transactions, else the first multi-shard commit would fail there. A shard that
 * cannot be reached now is only logged (the proxy must be able to start while a shard is down).
 */
public final class PreparedTransactionsCheck {
    private static final Logger LOG = LoggerFactory.getLogger(PreparedTransactionsCheck.class);

    private PreparedTransactionsCheck() {
    }

    public static void check(PgReshardConfig config) {
        if (!config.general().twoPhaseCommit()) {
            return;
        }
        PgConnector connector = new PgConnector(config);
        List<String> disabled = new ArrayList<>();
        for (Shard shard : PreparedRecovery.shardsOf(config)) {
            try (Connection c = connector.open(shard); Statement s = c.createStatement();
                 ResultSet rs = s.executeQuery("SELECT current_setting('max_prepared_transactions')::int")) {
                rs.next();
                if (rs.getInt(1) == 0) {
                    disabled.add(shard.describe());
                }
            } catch (SQLException e) {
                LOG.warn("cannot check max_prepared_transactions on {} ({}); two-phase commits there fail until it is "
                        + "set above 0", shard.describe(), e.getMessage());
            }
        }
        if (!disabled.isEmpty()) {
            throw new ConfigException(disabled.size() + " shard(s) have max_prepared_transactions = 0: "
                    + String.join(", ", disabled) + ". [general] two_phase_commit = true (the default) commits transactions "
                    + "that write on several shards with PREPARE TRANSACTION; set max_prepared_transactions to at least "
                    + "max_connections on those servers (postgresql.conf, then restart), or set [general] "
                    + "two_phase_commit = false to refuse such transactions instead (0A000)");
        }
    }
}
