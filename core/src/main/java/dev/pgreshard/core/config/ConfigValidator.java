package dev.pgreshard.core.config;

import dev.pgreshard.core.sharding.ShardKeyType;
import dev.pgreshard.core.topology.TableName;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * The semantic checks of a parsed configuration (the syntax and key checks happen in
 * {@link ConfigLoader}). Each failure names the file, the entry and the fix.
 */
final class ConfigValidator {
    private final String configName;
    private final String usersName;

    ConfigValidator(String configName, String usersName) {
        this.configName = configName;
        this.usersName = usersName;
    }

    void validate(PgReshardConfig config) {
        general(config.general());
        temporal(config.temporal());
        control(config.control());
        admin(config.admin());
        Map<String, Set<Integer>> clusters = databases(config.databases());
        shardedTables(config.shardedTables(), clusters);
        users(config.users(), clusters);
    }

    private void general(GeneralConfig g) {
        port("[general] port", g.port());
        port("[general] control_port", g.controlPort());
        if (g.port().equals(g.controlPort())) {
            fail(configName, "[general] port and control_port are both " + g.port() + "; give them different values");
        }
        positive("[general] cutover_pause_budget_ms", g.cutoverPauseBudgetMs());
        if (g.cutoverLagThresholdBytes() < 0) {
            fail(configName, "[general] cutover_lag_threshold_bytes is negative; use 0 or more bytes");
        }
        if (g.copyParallelism() < 0) {
            fail(configName, "[general] copy_parallelism is negative; use 0 (one per destination shard) or more");
        }
        positive("[general] copy_split_threshold_bytes", g.copySplitThresholdBytes());
        if (g.tlsCertificate().isEmpty() != g.tlsPrivateKey().isEmpty()) {
            fail(configName, "[general] tls_certificate and tls_private_key go together; set both or neither");
        }
    }

    private void temporal(TemporalConfig t) {
        if (!t.isEmbedded() && !t.target().matches("[^\\s:]+:\\d{1,5}")) {
            fail(configName, "[temporal] target '" + t.target() + "' is neither \"embedded\" nor host:port; "
                    + "write e.g. target = \"127.0.0.1:7233\"");
        }
        port("[temporal] embedded_port", t.embeddedPort());
        required("[temporal] namespace", t.namespace());
        required("[temporal] task_queue", t.taskQueue());
        if (t.heartbeatTimeoutSeconds() < 2 || t.heartbeatTimeoutSeconds() > 3600) {
            fail(configName, "[temporal] heartbeat_timeout_seconds is " + t.heartbeatTimeoutSeconds()
                    + "; use 2 to 3600 (activities heartbeat about every second)");
        }
        if (t.copySlots() < 0 || t.copySlots() > 1024) {
            fail(configName, "[temporal] copy_slots is " + t.copySlots()
                    + "; use 0 (one per core of the worker's machine) or 1 to 1024");
        }
    }

    private void control(ControlConfig c) {
        if (c == null) {
            return;
        }
        required("[control] url", c.url());
        if (!c.url().startsWith("jdbc:postgresql:")) {
            fail(configName, "[control] url must be a PostgreSQL JDBC URL (jdbc:postgresql://host:port/db), got '"
                    + c.url() + "'");
        }
        required("[control] user", c.user());
        if (c.password() == null) {
            fail(configName, "[control] has no password; add password = \"...\"");
        }
    }

    private void admin(AdminConfig a) {
        if (a == null) {
            return;
        }
        required("[admin] name", a.name());
        if (a.user() == null || a.user().isBlank()) {
            fail(configName, "[admin] has no user; add user = \"admin\" (the admin database's login)");
        }
        if (a.password() == null || a.password().isEmpty()) {
            fail(configName, "[admin] has no password; add password = \"...\" (the admin database never trusts)");
        }
    }

    /** Checks the shards and returns cluster name → shard numbers. */
    private Map<String, Set<Integer>> databases(List<DatabaseConfig> databases) {
        if (databases.isEmpty()) {
            fail(configName, "defines no [[databases]]; add one entry per shard (name, host, port, database_name, shard)");
        }
        Map<String, Set<Integer>> clusters = new LinkedHashMap<>();
        Map<String, Integer> firstEntry = new HashMap<>();
        for (int i = 0; i < databases.size(); i++) {
            DatabaseConfig d = databases.get(i);
            String entry = "[[databases]] entry #" + (i + 1);
            required(entry + " name", d.name());
            if (!CLUSTER_NAME.matcher(d.name()).matches()) {
                // the name becomes part of task ids, slot and publication names, and admin-database words
                fail(configName, entry + " name '" + d.name() + "' may contain only letters, digits, '_', '-' and '.' "
                        + "(at most 63); rename it");
            }
            required(entry + " ('" + d.name() + "') host", d.host());
            port(entry + " ('" + d.name() + "') port", d.port());
            required(entry + " ('" + d.name() + "') database_name", d.databaseName());
            if (d.shard() < 0) {
                fail(configName, entry + " ('" + d.name() + "') has shard " + d.shard() + "; shards count from 0");
            }
            String key = d.name() + "\u0000" + d.shard();
            Integer earlier = firstEntry.putIfAbsent(key, i + 1);
            if (earlier != null) {
                fail(configName, "[[databases]] entries #" + earlier + " and #" + (i + 1) + " both declare shard "
                        + d.shard() + " of database '" + d.name() + "'; give each shard its own number 0..N-1");
            }
            clusters.computeIfAbsent(d.name(), n -> new TreeSet<>()).add(d.shard());
        }
        clusters.forEach((name, shards) -> {
            List<Integer> missing = new ArrayList<>();
            int max = ((TreeSet<Integer>) shards).last();
            for (int s = 0; s <= max; s++) {
                if (!shards.contains(s)) {
                    missing.add(s);
                }
            }
            if (!missing.isEmpty()) {
                fail(configName, "database '" + name + "' has shards " + shards + " but shard numbers must run from 0 "
                        + "without gaps (missing " + missing + "); renumber its [[databases]] entries");
            }
        });
        return clusters;
    }

    private void shardedTables(List<ShardedTableConfig> tables, Map<String, Set<Integer>> clusters) {
        Set<String> seen = new HashSet<>();
        for (int i = 0; i < tables.size(); i++) {
            ShardedTableConfig t = tables.get(i);
            String entry = "[[sharded_tables]] entry #" + (i + 1);
            required(entry + " database", t.database());
            required(entry + " name", t.name());
            required(entry + " ('" + t.name() + "') column", t.column());
            required(entry + " ('" + t.name() + "') data_type", t.dataType());
            if (!clusters.containsKey(t.database())) {
                fail(configName, entry + " ('" + t.name() + "') names database '" + t.database()
                        + "', which no [[databases]] entry defines (known: " + String.join(", ", clusters.keySet())
                        + "); fix the name or add the database");
            }
            if (ShardKeyType.fromConfig(t.dataType()).isEmpty()) {
                fail(configName, entry + " ('" + t.name() + "') has data_type '" + t.dataType()
                        + "', which is not supported; use one of " + ShardKeyType.configNames());
            }
            TableName table;
            try {
                table = TableName.parse(t.name());
            } catch (IllegalArgumentException e) {
                fail(configName, entry + " name: " + e.getMessage());
                return;
            }
            catalogName(entry + " ('" + t.name() + "') schema", table.schema());
            catalogName(entry + " ('" + t.name() + "') table name", table.name());
            catalogName(entry + " ('" + t.name() + "') column", t.column());
            if (!seen.add(t.database() + "\u0000" + table)) {
                fail(configName, entry + " declares table " + table + " of database '" + t.database()
                        + "' a second time; keep one entry per table");
            }
        }
    }

    private void users(List<UserConfig> users, Map<String, Set<Integer>> clusters) {
        for (int i = 0; i < users.size(); i++) {
            UserConfig u = users.get(i);
            String entry = "[[users]] entry #" + (i + 1);
            if (u.name() == null || u.name().isBlank()) {
                fail(usersName, entry + " has no name; add name = \"...\"");
            }
            if (u.database() == null || u.database().isBlank()) {
                fail(usersName, entry + " ('" + u.name() + "') has no database; add database = \"...\"");
            }
            if (u.password() == null || u.password().isEmpty()) {
                fail(usersName, entry + " ('" + u.name() + "') has no password; add password = \"...\" "
                        + "(pgreshard never trusts a client without one)");
            }
            if (!clusters.containsKey(u.database())) {
                fail(usersName, entry + " ('" + u.name() + "') names database '" + u.database()
                        + "', which " + configName + " does not define (known: "
                        + String.join(", ", clusters.keySet()) + "); fix the name");
            }
            if (u.serverUser() != null && !u.serverUser().isBlank() && u.serverPassword() == null) {
                fail(usersName, entry + " ('" + u.name() + "') sets server_user without server_password; add it");
            }
        }
    }

    private void required(String what, String value) {
        if (value == null || value.isBlank()) {
            fail(configName, what + " is missing or empty; set it");
        }
    }

    private void port(String what, int port) {
        if (port < 1 || port > 65535) {
            fail(configName, what + " is " + port + "; use a TCP port between 1 and 65535");
        }
    }

    private void positive(String what, long value) {
        if (value <= 0) {
            fail(configName, what + " is " + value + "; use a positive number");
        }
    }

    /**
     * A catalog name as PostgreSQL stores it: at most 63 bytes (longer names are truncated by the
     * server, so a longer one can never match) and no NUL. Quotes and semicolons are legal in catalog
     * names; pgreshard always quotes them, so they need no check here.
     */
    private void catalogName(String what, String name) {
        int bytes = name.getBytes(java.nio.charset.StandardCharsets.UTF_8).length;
        if (bytes > MAX_IDENTIFIER_BYTES) {
            fail(configName, what + " '" + name + "' is " + bytes + " bytes; PostgreSQL names have at most "
                    + MAX_IDENTIFIER_BYTES + " bytes: write the name as the catalog shows it");
        }
        if (name.indexOf('\0') >= 0) {
            fail(configName, what + " contains a NUL character, which no PostgreSQL name can; fix the name");
        }
    }

    private static final int MAX_IDENTIFIER_BYTES = 63;
    private static final java.util.regex.Pattern CLUSTER_NAME = java.util.regex.Pattern.compile("[A-Za-z0-9_.-]{1,63}");

    private static void fail(String file, String message) {
        throw new ConfigException(file + ": " + message);
    }
}
