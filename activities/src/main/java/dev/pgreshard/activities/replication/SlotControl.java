package dev.pgreshard.activities.replication;

import dev.pgreshard.core.pg.AdvisoryLocks;
import dev.pgreshard.core.pg.Lsn;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;

/** What a stream asks of and does to its slot through ordinary SQL, on a connection to the slot's server. */
final class SlotControl {
    private SlotControl() {
    }

    /** First key of the slot locks' two-int advisory lock: "pgrs" (the second is the slot name's hashtext). */
    private static final int LOCK_NAMESPACE = 0x70677273;

    /**
     * Takes the session-level lock that makes this session the slot's only reader, or returns false if
     * another session holds it. A walsender holding the slot excludes a second walsender; a reader
     * working on a copy of the slot ({@link BacklogReader}) does not hold the slot, so every reader of
     * a task's slot takes this lock first, for as long as it reads. Released when the session ends.
     */
    static boolean tryLock(Connection c, String slotName) throws SQLException {
        return AdvisoryLocks.tryLock(c, LOCK_NAMESPACE, slotName);
    }

    /** Bytes of WAL {@code slotName} has not been confirmed past, or -1 if there is no such slot. */
    static long backlog(Connection c, String slotName) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(
                "SELECT (pg_current_wal_lsn() - confirmed_flush_lsn)::bigint FROM pg_replication_slots WHERE slot_name = ?")) {
            ps.setString(1, slotName);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? rs.getLong(1) : -1;
            }
        }
    }

    /**
     * Lets the slot forget everything before {@code durable}, which every destination shard has
     * committed. Never moves it back (PostgreSQL refuses that): a slot already past {@code durable}
     * (a stream confirmed WAL without changes after its last commit) stays where it is.
     */
    static void advance(Connection c, String slotName, Lsn durable) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT pg_replication_slot_advance(slot_name, ?::pg_lsn) "
                + "FROM pg_replication_slots WHERE slot_name = ? AND confirmed_flush_lsn < ?::pg_lsn")) {
            ps.setString(1, durable.toString());
            ps.setString(2, slotName);
            ps.setString(3, durable.toString());
            ps.executeQuery().close();
        }
    }
}
