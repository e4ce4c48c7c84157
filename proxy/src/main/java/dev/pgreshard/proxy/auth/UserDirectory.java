package dev.pgreshard.proxy.auth;

import dev.pgreshard.core.config.AdminConfig;
import dev.pgreshard.core.config.PgReshardConfig;
import dev.pgreshard.core.config.UserConfig;

import java.security.SecureRandom;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The logins the proxy accepts: every users.toml entry (name + database) and the [admin] user for the
 * admin database. SCRAM verifiers are derived once per login and cached.
 */
public final class UserDirectory {
    /** One accepted login: who, for which database, with which password. */
    public record Login(String user, String database, String password) {
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
            logins.putIfAbsent(key(u.name(), u.database()), new Login(u.name(), u.database(), u.password().reveal()));
        }
        AdminConfig admin = config.admin();
        if (admin != null && admin.user() != null && admin.password() != null) {
            logins.put(key(admin.user(), admin.name()), new Login(admin.user(), admin.name(), admin.password().reveal()));
        }
    }

    public Optional<Login> find(String user, String database) {
        return Optional.ofNullable(logins.get(key(user, database)));
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
