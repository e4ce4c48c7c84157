package dev.pgreshard.proxy.auth;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/** PostgreSQL's md5 password hashing: {@code "md5" + md5hex(md5hex(password + user) + salt)}. */
public final class Md5Password {
    private Md5Password() {
    }

    public static String encode(String user, String password, byte[] salt) {
        String inner = hex(md5(concat((password + user).getBytes(StandardCharsets.UTF_8), new byte[0])));
        return "md5" + hex(md5(concat(inner.getBytes(StandardCharsets.US_ASCII), salt)));
    }

    public static boolean matches(String user, String password, byte[] salt, String response) {
        return MessageDigest.isEqual(encode(user, password, salt).getBytes(StandardCharsets.US_ASCII),
                response.getBytes(StandardCharsets.US_ASCII));
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] r = new byte[a.length + b.length];
        System.arraycopy(a, 0, r, 0, a.length);
        System.arraycopy(b, 0, r, a.length, b.length);
        return r;
    }

    private static byte[] md5(byte[] in) {
        try {
            return MessageDigest.getInstance("MD5").digest(in);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("MD5 is not available in this JVM", e);
        }
    }

    private static String hex(byte[] b) {
        StringBuilder sb = new StringBuilder(b.length * 2);
        for (byte x : b) {
            sb.append(Character.forDigit((x >> 4) & 0xf, 16)).append(Character.forDigit(x & 0xf, 16));
        }
        return sb.toString();
    }
}
