package dev.pgreshard.activities.copy;

import java.sql.SQLException;

/** A held snapshot could not be imported: its holder's session ended, so the table must restart. */
final class SnapshotGoneException extends SQLException {
    SnapshotGoneException(String message, SQLException cause) {
        super(message, cause.getSQLState(), cause);
    }
}
