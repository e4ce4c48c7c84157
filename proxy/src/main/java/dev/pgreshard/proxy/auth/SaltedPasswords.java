package dev.pgreshard.proxy.auth;

import com.ongres.scram.common.ScramFunctions;
import com.ongres.scram.common.ScramMechanism;
import com.ongres.scram.common.StringPreparation;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.Base64;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The SCRAM-SHA-256 salted passwords of the proxy's server logins, computed once per password, salt and
 * iteration count. The salted password (PBKDF2, 4096 rounds of HMAC-SHA-256 by default) is the whole cost of
 * a SCRAM login, and it depends only on those three: a server keeps one salt per role, so every login of a
 * user to a server needs the same value. Without this each server connection computed it anew on the
 * event loop that opened it — a warm switch opens one per live session and shard at once, and every other
 * session on that loop waited behind them. PgBouncer keeps the same keys for the same reason. Keys hold a
 * digest of the password, never the password. Thread-safe; bounded (cleared when full: a refill costs one
 * computation per login).
 */
final class SaltedPasswords {
    private static final int MAX_ENTRIES = 1024;
    private static final Map<Key, byte[]> CACHE = new ConcurrentHashMap<>();

    private record Key(String passwordDigest, String salt, int iterations) {
    }

    private SaltedPasswords() {
    }

    /** SaltedPassword := Hi(Normalize(password), salt, i) (RFC 5802), {@code salt} as the server sent it (base64). */
    static byte[] of(String password, String salt, int iterations) {
        Key key = new Key(digest(password), salt, iterations);
        byte[] cached = CACHE.get(key);
        if (cached == null) {
            cached = ScramFunctions.saltedPassword(ScramMechanism.SCRAM_SHA_256, StringPreparation.POSTGRESQL_PREPARATION,
                    password.toCharArray(), Base64.getDecoder().decode(salt), iterations);
            if (CACHE.size() >= MAX_ENTRIES) {
                CACHE.clear();
            }
            CACHE.put(key, cached);
        }
        return Arrays.copyOf(cached, cached.length);
    }

    private static String digest(String password) {
        try {
            byte[] d = MessageDigest.getInstance("SHA-256").digest(password.getBytes(StandardCharsets.UTF_8));
            return Base64.getEncoder().encodeToString(d);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JVM", e);
        }
    }
}
