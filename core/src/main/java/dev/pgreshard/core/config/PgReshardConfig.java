package dev.pgreshard.core.config;

import java.util.List;
import java.util.Optional;

/**
 * The whole configuration: pgreshard.toml plus the users.toml beside it. Immutable; built only by
 * {@link ConfigLoader}, which validates it. Its {@code toString()} shows no secret.
 *
 * @param source        where the configuration was read from (for error messages)
 * @param general       {@code [general]}
 * @param temporal      {@code [temporal]}
 * @param control       {@code [control]}, or null when absent (only some commands need it)
 * @param admin         {@code [admin]}, or null when absent (only the proxy needs it)
 * @param databases     {@code [[databases]]}, in file order
 * @param shardedTables {@code [[sharded_tables]]}, in file order
 * @param users         {@code [[users]]} of users.toml (empty when there is no users.toml)
 */
public record PgReshardConfig(
        String source,
        GeneralConfig general,
        TemporalConfig temporal,
        ControlConfig control,
        AdminConfig admin,
        List<DatabaseConfig> databases,
        List<ShardedTableConfig> shardedTables,
        List<UserConfig> users) {

    public PgReshardConfig {
        databases = List.copyOf(databases);
        shardedTables = List.copyOf(shardedTables);
        users = List.copyOf(users);
    }

    /** This configuration with another {@code [general]} (command-line overrides of a process). */
    public PgReshardConfig withGeneral(GeneralConfig newGeneral) {
        return new PgReshardConfig(source, newGeneral, temporal, control, admin, databases, shardedTables, users);
    }

    /** {@code [control]}, or a clear error for a command that needs it. */
    public ControlConfig requireControl() {
        if (control == null) {
            throw new ConfigException(source + ": this command needs a [control] section (url, user, password "
                    + "of the PostgreSQL database that stores pgreshard's task registry); add one");
        }
        return control;
    }

    /** {@code [admin]}, or a clear error for a command that needs it. */
    public AdminConfig requireAdmin() {
        if (admin == null) {
            throw new ConfigException(source + ": this command needs an [admin] section with user and password "
                    + "(the credentials of the proxy's admin database); add one");
        }
        return admin;
    }

    /** The first users.toml entry for {@code database}, if any. */
    public Optional<UserConfig> userFor(String database) {
        return users.stream().filter(u -> u.database().equals(database)).findFirst();
    }

    /**
     * The credentials of a users.toml entry of cluster {@code database} that reaches its servers as
     * role {@code serverUser}, if any: what finishes a prepared transaction that role left behind
     * (PostgreSQL lets only its owner or a superuser commit or roll it back).
     */
    public Optional<Credentials> serverCredentialsOf(String database, String serverUser) {
        return users.stream().filter(u -> u.database().equals(database)).map(UserConfig::serverCredentials)
                .filter(c -> c.user().equals(serverUser)).findFirst();
    }

    /**
     * pgreshard's own credentials on the servers of cluster {@code database}, for the worker's work
     * (schema sync, copy, replication slots, fencing, cutover) and for validating a routing swap: the
     * first users.toml entry for it (its server_user/server_password when set) — so list the role
     * with the privileges that work needs first. The proxy never lends them to clients: each client
     * reaches the servers as its own entry (see the proxy's UserDirectory.serverLogin).
     */
    public Credentials serverCredentials(String database) {
        return userFor(database).map(UserConfig::serverCredentials).orElseThrow(() -> new ConfigException(
                "users.toml (beside " + source + "): no [[users]] entry for database '" + database
                        + "'; add one: [[users]] name = \"...\", database = \"" + database
                        + "\", password = \"...\""));
    }
}
