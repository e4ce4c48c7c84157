package dev.pgreshard.activities.replication;

import dev.pgreshard.activities.support.FailureSubject;
import dev.pgreshard.core.pg.Identifiers;

import java.sql.SQLException;
import java.util.List;

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

    /** The failure of {@code template} run with {@code values}. */
    static ApplyException of(String shard, SqlTemplate template, List<String> values, SQLException cause) {
        String table = template.table().toString();
        StringBuilder sent = new StringBuilder();
        for (String v : values) {
            sent.append(sent.length() == 0 ? "" : ", ").append(v == null ? "NULL" : Identifiers.literal(v));
        }
        return new ApplyException(shard, table, shard + ": applying a replicated change to " + table + " failed: "
                + firstLines(cause.getMessage()) + "; statement: " + template.parameterSql()
                + (values.isEmpty() ? "" : " with values (" + excerpt(sent + ")")), cause);
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
