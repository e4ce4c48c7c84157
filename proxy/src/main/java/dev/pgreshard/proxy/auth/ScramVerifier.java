package dev.pgreshard.proxy.auth;

import com.ongres.scram.common.ScramFunctions;
import com.ongres.scram.common.ScramMechanism;
import com.ongres.scram.common.StringPreparation;

import java.security.SecureRandom;
import java.util.Base64;

/**
 * What the server keeps of a SCRAM-SHA-256 password (RFC 5802 §3): salt, iterations, StoredKey and
 * ServerKey. Derived once per user from the users.toml password (PBKDF2 is deliberately slow).
 */
public record ScramVerifier(byte[] salt, int iterations, byte[] storedKey, byte[] serverKey) {
    public static final ScramMechanism MECHANISM = ScramMechanism.SCRAM_SHA_256;
    static final int ITERATIONS = 4096;

    public static ScramVerifier derive(String password, SecureRandom random) {
        byte[] salt = ScramFunctions.salt(16, random);
        byte[] salted = ScramFunctions.saltedPassword(MECHANISM, StringPreparation.POSTGRESQL_PREPARATION,
                password.toCharArray(), salt, ITERATIONS);
        byte[] clientKey = ScramFunctions.clientKey(MECHANISM, salted);
        return new ScramVerifier(salt, ITERATIONS, ScramFunctions.storedKey(MECHANISM, clientKey),
                ScramFunctions.serverKey(MECHANISM, salted));
    }

    public String saltBase64() {
        return Base64.getEncoder().encodeToString(salt);
    }
}
