package dev.pgreshard.core.sharding;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Locale;
import java.util.Optional;
import java.util.UUID;
import java.util.stream.Collectors;

/**
 * The supported shard-key column types ({@code data_type} in {@code [[sharded_tables]]}), each with
 * PostgreSQL's extended hash for it. Three ways in: a Java value (proxy bind parameters), text (SQL
 * literals, CLI, pgoutput text tuples) and the binary send format (COPY ... (FORMAT binary)); the
 * same value gives the same hash whichever way it comes.
 */
public enum ShardKeyType {
    BIGINT("bigint", "int8"),
    INTEGER("integer", "int4"),
    TEXT("text", "text"),
    VARCHAR("varchar", "varchar"),
    UUID("uuid", "uuid");

    private final String configName;
    private final String pgTypeName;

    ShardKeyType(String configName, String pgTypeName) {
        this.configName = configName;
        this.pgTypeName = pgTypeName;
    }

    /** The {@code data_type} spelling, or empty when not supported. */
    public static Optional<ShardKeyType> fromConfig(String dataType) {
        if (dataType == null) {
            return Optional.empty();
        }
        String lower = dataType.toLowerCase(Locale.ROOT);
        return Arrays.stream(values()).filter(t -> t.configName.equals(lower)).findFirst();
    }

    public static String configNames() {
        return Arrays.stream(values()).map(t -> t.configName).collect(Collectors.joining(", "));
    }

    public String configName() {
        return configName;
    }

    /** The {@code pg_type.typname} of the column ({@code int8}, {@code int4}, ...). */
    public String pgTypeName() {
        return pgTypeName;
    }

    /** Parses a textual value (PostgreSQL's text input format) into Long, Integer, String or UUID. */
    public Object parse(String text) {
        try {
            return switch (this) {
                case BIGINT -> Long.parseLong(text.trim());
                case INTEGER -> Integer.parseInt(text.trim());
                case TEXT, VARCHAR -> text;
                case UUID -> parseUuid(text.trim());
            };
        } catch (NumberFormatException e) {
            throw new ShardKeyParseException("'" + text + "' is not a valid " + configName + " value");
        }
    }

    /** PostgreSQL's extended hash of {@code value} (a Number, CharSequence, UUID or byte[16]) with {@code seed}. */
    public long hash(Object value, long seed) {
        return switch (this) {
            case BIGINT, INTEGER -> PgHash.hashInt8Extended(integral(value), seed);
            case TEXT, VARCHAR -> {
                byte[] utf8 = value.toString().getBytes(StandardCharsets.UTF_8);
                yield PgHash.hashBytesExtended(utf8, 0, utf8.length, seed);
            }
            case UUID -> {
                byte[] raw = uuidBytes(value);
                yield PgHash.hashBytesExtended(raw, 0, raw.length, seed);
            }
        };
    }

    /** The hash of a value given in PostgreSQL's binary send format ({@code len} bytes at {@code off}). */
    public long hashBinary(byte[] buf, int off, int len, long seed) {
        return switch (this) {
            case BIGINT -> {
                requireLength(len, 8);
                yield PgHash.hashInt8Extended(ByteBuffer.wrap(buf, off, 8).getLong(), seed);
            }
            case INTEGER -> {
                requireLength(len, 4);
                yield PgHash.hashInt4Extended(ByteBuffer.wrap(buf, off, 4).getInt(), seed);
            }
            case TEXT, VARCHAR -> PgHash.hashBytesExtended(buf, off, len, seed);
            case UUID -> {
                requireLength(len, 16);
                yield PgHash.hashBytesExtended(buf, off, 16, seed);
            }
        };
    }

    private void requireLength(int len, int expected) {
        if (len != expected) {
            throw new ShardKeyParseException("a binary " + configName + " value has " + expected + " bytes, got " + len);
        }
    }

    private long integral(Object value) {
        if (value instanceof Long || value instanceof Integer || value instanceof Short || value instanceof Byte) {
            long v = ((Number) value).longValue();
            if (this == INTEGER && (v < Integer.MIN_VALUE || v > Integer.MAX_VALUE)) {
                throw new ShardKeyParseException("'" + v + "' is out of range for integer");
            }
            return v;
        }
        if (value instanceof CharSequence s) {
            Object parsed = parse(s.toString());
            return ((Number) parsed).longValue();
        }
        throw new ShardKeyParseException("a " + configName + " shard key cannot be a " + value.getClass().getSimpleName());
    }

    private static byte[] uuidBytes(Object value) {
        if (value instanceof byte[] raw && raw.length == 16) {
            return raw;
        }
        UUID uuid = value instanceof UUID u ? u : parseUuid(value.toString().trim());
        return ByteBuffer.allocate(16).putLong(uuid.getMostSignificantBits()).putLong(uuid.getLeastSignificantBits())
                .array();
    }

    /**
     * PostgreSQL accepts a uuid as 32 hex digits with optional hyphens after any group of four and
     * optional braces; Java's {@link UUID#fromString} is laxer (it accepts short groups), so parse by hand.
     */
    private static UUID parseUuid(String text) {
        String s = text;
        if (s.startsWith("{") && s.endsWith("}")) {
            s = s.substring(1, s.length() - 1);
        }
        StringBuilder hex = new StringBuilder(32);
        for (int i = 0; i < s.length(); i++) {
            char ch = s.charAt(i);
            if (ch == '-' && hex.length() > 0 && hex.length() % 4 == 0 && i + 1 < s.length() && s.charAt(i + 1) != '-') {
                continue;
            }
            if (Character.digit(ch, 16) < 0) {
                throw new ShardKeyParseException("'" + text + "' is not a valid uuid value");
            }
            hex.append(ch);
        }
        if (hex.length() != 32) {
            throw new ShardKeyParseException("'" + text + "' is not a valid uuid value");
        }
        return new UUID(Long.parseUnsignedLong(hex.substring(0, 16), 16), Long.parseUnsignedLong(hex.substring(16), 16));
    }
}
