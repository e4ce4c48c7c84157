package dev.pgreshard.core.pg;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonValue;
import com.fasterxml.jackson.databind.JsonNode;

/**
 * A PostgreSQL WAL position ({@code pg_lsn}): an unsigned 64-bit byte offset, written
 * {@code XXXXXXXX/XXXXXXXX} (high and low 32 bits in hex). Ordered as unsigned numbers.
 *
 * <p>In JSON (Temporal payloads and heartbeats, state files) it is written as PostgreSQL writes it,
 * {@code "0/16B3748"}, so the Temporal UI shows positions an operator can compare with
 * {@code pg_current_wal_lsn()}. Histories written before hold {@code {"value": n}}; both are read.
 */
public record Lsn(long value) implements Comparable<Lsn> {
    /** {@code 0/0}: PostgreSQL's InvalidXLogRecPtr, "no position". */
    public static final Lsn INVALID = new Lsn(0);

    public static Lsn of(long value) {
        return value == 0 ? INVALID : new Lsn(value);
    }

    /** Parses {@code 16/B374D848}; throws {@link IllegalArgumentException} naming the bad text. */
    public static Lsn parse(String text) {
        int slash = text == null ? -1 : text.indexOf('/');
        if (slash <= 0 || slash == text.length() - 1 || slash > 8 || text.length() - slash - 1 > 8) {
            throw new IllegalArgumentException("'" + text + "' is not an LSN; expected the form 16/B374D848");
        }
        try {
            long hi = Long.parseLong(text.substring(0, slash), 16);
            long lo = Long.parseLong(text.substring(slash + 1), 16);
            return of((hi << 32) | lo);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("'" + text + "' is not an LSN; expected the form 16/B374D848", e);
        }
    }

    /** Reads {@code "16/B374D848"}, or the older {@code {"value": n}} and bare {@code n}. */
    @JsonCreator(mode = JsonCreator.Mode.DELEGATING)
    static Lsn fromJson(JsonNode node) {
        if (node.isTextual()) {
            return parse(node.textValue());
        }
        JsonNode value = node.isObject() ? node.get("value") : node;
        if (value == null || !value.canConvertToLong()) {
            throw new IllegalArgumentException("'" + node + "' is not an LSN; expected the form 16/B374D848");
        }
        return of(value.longValue());
    }

    @JsonIgnore // not a property
    public boolean isValid() {
        return value != 0;
    }

    public boolean isAfter(Lsn other) {
        return compareTo(other) > 0;
    }

    public boolean isBefore(Lsn other) {
        return compareTo(other) < 0;
    }

    public static Lsn max(Lsn a, Lsn b) {
        return a.compareTo(b) >= 0 ? a : b;
    }

    public static Lsn min(Lsn a, Lsn b) {
        return a.compareTo(b) <= 0 ? a : b;
    }

    /** Bytes from {@code earlier} to this position, 0 if {@code earlier} is not before it. */
    public long bytesAfter(Lsn earlier) {
        return isAfter(earlier) ? value - earlier.value : 0;
    }

    @Override
    public int compareTo(Lsn other) {
        return Long.compareUnsigned(value, other.value);
    }

    @JsonValue
    @Override
    public String toString() {
        return Long.toHexString(value >>> 32).toUpperCase() + "/" + Long.toHexString(value & 0xFFFFFFFFL).toUpperCase();
    }
}
