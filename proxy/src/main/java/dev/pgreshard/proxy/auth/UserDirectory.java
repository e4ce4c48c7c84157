package dev.pgreshard.proxy.auth;

import dev.pgreshard.core.config.AdminConfig;
import dev.pgreshard.core.config.Credentials;
import dev.pgreshard.core.config.PgReshardConfig;
import dev.pgreshard.core.config.UserConfig;

import java.security.SecureRandom;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The logins the proxy accepts: every users.toml entry (name + database) and the [admin] user for the
 * admin database. SCRAM verifiers are derived once per login and cached.
 *
 * <p>Each login also says who its client is on the servers ({@link #serverLogin}): the client's own
 * entry's {@code server_user}/{@code server_password}, else its own name and password. A client never
 * runs as another entry's role (the "first entry of the database", which the worker uses for its
 * own work, is not a fallback here).
 */
public final class UserDirectory {
    /**
     * One accepted login: who, for which database, with which password, and as whom it reaches the
     * servers ({@code server} is null for the admin database, which has no servers).
     */
    public record Login(String user, String database, String password, Credentials server) {
        @Override
        public String toString() {
            return user + "@" + database;
        }
    }

    private final Map<String, Login> logins = new ConcurrentHashMap<>();
    private final Map<String, ScramVerifier> verifiers = new ConcurrentHashMap<>();
    private final SecureRandom random;

    public UserDirectory(PgReshardConfig config, SecureRandom random) {
        this.random = random;
        for (UserConfig u : config.users()) {
            logins.putIfAbsent(key(u.name(), u.database()), new Login(u.name(), u.database(), u.password().reveal(),
                    u.serverCredentials()));
        }
        AdminConfig admin = config.admin();
        if (admin != null && admin.user() != null && admin.password() != null) {
            logins.put(key(admin.user(), admin.name()), new Login(admin.user(), admin.name(), admin.password().reveal(), null));
        }
    }

    public Optional<Login> find(String user, String database) {
        return Optional.ofNullable(logins.get(key(user, database)));
    }

    /**
     * The credentials with which {@code login}'s client reaches the servers of {@code cluster}: its
     * entry for that cluster (same name) when users.toml has one — a routing swap may move the
     * client to a cluster whose servers want another password — else the entry it logged in with.
     */
    public Credentials serverLogin(Login login, String cluster) {
        Login own = login.database().equals(cluster) ? login : logins.get(key(login.user(), cluster));
        return (own == null || own.server() == null ? login : own).server();
    }

    public boolean knowsDatabase(String database) {
        return logins.values().stream().anyMatch(l -> l.database().equals(database));
    }

    public ScramVerifier verifier(Login login) {
        return verifiers.computeIfAbsent(key(login.user(), login.database()),
                k -> ScramVerifier.derive(login.password(), random));
    }

    /** A verifier for a login that does not exist, so that a wrong user costs the same exchange as a wrong password. */
    public ScramVerifier decoyVerifier() {
        return verifiers.computeIfAbsent("\0decoy", k -> ScramVerifier.derive(Long.toHexString(random.nextLong()), random));
    }

    private static String key(String user, String database) {
        return user + "\0" + database;
    }
}
