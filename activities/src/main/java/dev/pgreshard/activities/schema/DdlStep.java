package dev.pgreshard.activities.schema;

import java.sql.Connection;
import java.sql.SQLException;

/**
 * One object to create on a destination shard, with the probe that says whether it is already
 * there. Re-running schema sync skips every step whose object exists, which makes it idempotent
 * without "IF NOT EXISTS" (that pg_dump does not write) and without swallowing errors.
 *
 * @param label what the step creates, e.g. "TABLE public.orders" (for messages and dry runs)
 * @param sql   the statements
 * @param probe whether the object exists; null for a step that belongs to the step before it
 *              (a COMMENT, a SEQUENCE OWNED BY): it runs exactly when that one ran
 */
public record DdlStep(String label, String sql, Probe probe) {

    /** Looks on the destination (inside the applying transaction, so earlier steps are visible). */
    @FunctionalInterface
    public interface Probe {
        boolean exists(Connection c) throws SQLException;
    }
}
