package dev.pgreshard.core.pg;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;

/**
 * Session-level advisory locks keyed by a name: the two-int form, {@code namespace} first (one per
 * kind of thing pgreshard locks, so kinds never share a key) and the name's {@code hashtext} second.
 * Held until released or the session ends — so a dead worker's locks go with its connection.
 */
public final class AdvisoryLocks {
    private AdvisoryLocks() {
    }

    /** Takes the lock of {@code name} in {@code namespace} on {@code c}'s session; false if another session holds it. */
    public static boolean tryLock(Connection c, int namespace, String name) throws SQLException {
        try (PreparedStatement s = c.prepareStatement("SELECT pg_try_advisory_lock(?, hashtext(?))")) {
            s.setInt(1, namespace);
            s.setString(2, name);
            try (ResultSet rs = s.executeQuery()) {
                rs.next();
                return rs.getBoolean(1);
            }
        }
    }
}
