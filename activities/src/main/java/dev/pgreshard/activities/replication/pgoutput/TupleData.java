package dev.pgreshard.activities.replication.pgoutput;

import java.nio.charset.StandardCharsets;

/**
 * The column values of one row as pgoutput sends them: per column a kind ({@code 'n'} null,
 * {@code 'u'} unchanged TOASTed value that was not sent, {@code 't'} text, {@code 'b'} binary) and,
 * for text/binary, the raw bytes.
 */
public record TupleData(byte[] kinds, byte[][] values) {
    public static final byte NULL = 'n';
    public static final byte UNCHANGED_TOAST = 'u';
    public static final byte TEXT = 't';
    public static final byte BINARY = 'b';

    public int size() {
        return kinds.length;
    }

    public boolean isNull(int column) {
        return kinds[column] == NULL;
    }

    /** The column was TOASTed and did not change: its value is not in the message and must be left alone. */
    public boolean isUnchangedToast(int column) {
        return kinds[column] == UNCHANGED_TOAST;
    }

    /** The value in PostgreSQL's text output format (UTF-8 server encoding), or null for NULL / unchanged. */
    public String text(int column) {
        byte[] v = values[column];
        return v == null ? null : new String(v, StandardCharsets.UTF_8);
    }

    public byte kind(int column) {
        return kinds[column];
    }
}
