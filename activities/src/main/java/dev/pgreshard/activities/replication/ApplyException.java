package dev.pgreshard.activities.replication;

import dev.pgreshard.activities.support.FailureSubject;

import java.sql.SQLException;

/**
 * A replicated change that a destination shard refused: names the shard, the table, the statement
 * (its SQL with {@code $n} placeholders and a bounded excerpt of the values sent) and the server's
 * own message, so the operator sees the cause in `status`, not just "the stream failed".
 */
final class ApplyException extends SQLException implements FailureSubject {
    private static final int MAX_VALUES_CHARS = 300;
    private final String shard;
    private final String table;

    ApplyException(String shard, String table, String message, Throwable cause) {
        super(message, cause instanceof SQLException se ? se.getSQLState() : null, cause);
        this.shard = shard;
        this.table = table;
    }

    /** The failure of {@code sent} (an EXECUTE or PREPARE of {@code template}, or a plain statement). */
    static ApplyException of(String shard, SqlTemplate template, String sent, SQLException cause) {
        String statement = template == null ? null : template.prepareSql().replaceFirst("^PREPARE \\S+ AS ", "");
        String values = sent.startsWith("EXECUTE ") ? excerpt(sent.substring(sent.indexOf('(') + 1)) : null;
        String table = template == null ? null : template.table().toString();
        return new ApplyException(shard, table, shard + ": applying a replicated change"
                + (table == null ? "" : " to " + table) + " failed: " + firstLines(cause.getMessage())
                + (statement == null ? "" : "; statement: " + statement + (values == null || sent.indexOf('(') < 0 ? ""
                : " with values (" + values)), cause);
    }

    /** A statement run once (TRUNCATE, DELETE ... RETURNING) that failed on {@code table}. */
    static ApplyException of(String shard, String table, String sql, SQLException cause) {
        return new ApplyException(shard, table, shard + ": applying a replicated change to " + table + " failed: "
                + firstLines(cause.getMessage()) + "; statement: " + excerpt(sql), cause);
    }

    /** The same failure again, for work queued after it (the connection's transaction is aborted). */
    ApplyException again() {
        return new ApplyException(shard, table, getMessage(), this);
    }

    @Override
    public String subject() {
        return (table == null ? "" : "table " + table + " on ") + shard;
    }

    private static String excerpt(String s) {
        return s.length() <= MAX_VALUES_CHARS ? s : s.substring(0, MAX_VALUES_CHARS) + "... (" + s.length() + " chars)";
    }

    /** The server's message, DETAIL and HINT on one line (PgJDBC puts them on separate lines). */
    private static String firstLines(String message) {
        return message == null ? "" : String.join(" ", message.strip().lines().map(String::strip).toList());
    }
}
