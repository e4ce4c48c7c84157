package dev.pgreshard.proxy.sharded.merge;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.LocalTime;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeFormatterBuilder;
import java.time.temporal.ChronoField;
import java.time.temporal.ChronoUnit;
import java.util.Arrays;
import java.util.Comparator;
import java.util.Set;

/**
 * Sort keys decoded from the shards' values, ordered as PostgreSQL orders them: integers, floats (NaN
 * above every number, -0 = 0), numeric (-Infinity &lt; numbers &lt; Infinity &lt; NaN), bool, date,
 * time, timestamp(tz) (text in the ISO DateStyle, binary as microseconds), uuid (bytes), and text whose
 * collation orders by code point (C, POSIX, C.UTF-8: UTF-8 bytes; bpchar without its padding). Any
 * other type or collation is not merged: {@link #comparator} returns null and the read is refused.
 */
public final class SortValues {
    private static final Set<String> BYTE_ORDER_COLLATIONS = Set.of("c", "posix", "c.utf-8", "c.utf8", "ucs_basic");
    private static final DateTimeFormatter TIMESTAMP = new DateTimeFormatterBuilder()
            .appendPattern("yyyy-MM-dd HH:mm:ss").optionalStart().appendFraction(ChronoField.NANO_OF_SECOND, 0, 9, true)
            .optionalEnd().toFormatter();
    private static final LocalDateTime PG_EPOCH = LocalDateTime.of(2000, 1, 1, 0, 0);

    private SortValues() {
    }

    /** Whether a collation name (as pg_collation_for or datcollate report it) orders text by its bytes. */
    public static boolean byteOrder(String collation, String databaseCollation) {
        if (collation == null) {
            return false;
        }
        String c = collation.replace("\"", "").toLowerCase(java.util.Locale.ROOT);
        if (c.equals("default")) {
            return databaseCollation != null && BYTE_ORDER_COLLATIONS.contains(databaseCollation.toLowerCase(java.util.Locale.ROOT));
        }
        return BYTE_ORDER_COLLATIONS.contains(c);
    }

    public static boolean isText(int oid) {
        return oid == PgTypes.TEXT || oid == PgTypes.VARCHAR || oid == PgTypes.BPCHAR || oid == PgTypes.NAME;
    }

    /**
     * A comparator of non-null values of type {@code oid} sent in {@code format} (0 text, 1 binary), or
     * null when the proxy cannot reproduce PostgreSQL's order for it. Text types need {@code textByteOrder}.
     */
    public static Comparator<byte[]> comparator(int oid, int format, boolean textByteOrder) {
        boolean bin = format == 1;
        return switch (oid) {
            case PgTypes.INT2, PgTypes.INT4, PgTypes.INT8 ->
                    Comparator.comparingLong(v -> bin ? binaryLong(v) : Long.parseLong(text(v)));
            case PgTypes.OID -> Comparator.comparingLong(v -> bin ? ByteBuffer.wrap(v).getInt() & 0xffffffffL : Long.parseLong(text(v)));
            case PgTypes.FLOAT4, PgTypes.FLOAT8 -> (a, b) -> compareDouble(toDouble(a, bin), toDouble(b, bin));
            case PgTypes.NUMERIC -> (a, b) -> compareNumeric(bin ? binaryNumeric(a) : textNumeric(text(a)),
                    bin ? binaryNumeric(b) : textNumeric(text(b)));
            case PgTypes.BOOL -> Comparator.comparingInt(v -> bin ? v[0] : (v[0] == 't' ? 1 : 0));
            case PgTypes.DATE -> Comparator.comparingLong(v -> bin ? ByteBuffer.wrap(v).getInt() : textDate(text(v)));
            case PgTypes.TIME -> Comparator.comparingLong(v -> bin ? ByteBuffer.wrap(v).getLong()
                    : LocalTime.parse(text(v)).toNanoOfDay() / 1000);
            case PgTypes.TIMESTAMP -> Comparator.comparingLong(v -> bin ? ByteBuffer.wrap(v).getLong() : textTimestamp(text(v), false));
            case PgTypes.TIMESTAMPTZ -> Comparator.comparingLong(v -> bin ? ByteBuffer.wrap(v).getLong() : textTimestamp(text(v), true));
            case PgTypes.INTERVAL -> bin ? Comparator.comparing(SortValues::intervalSpan) : null;
            case PgTypes.UUID, PgTypes.BYTEA -> bin || oid == PgTypes.UUID ? Arrays::compareUnsigned : null;
            case PgTypes.TEXT, PgTypes.VARCHAR, PgTypes.NAME -> textByteOrder ? Arrays::compareUnsigned : null;
            case PgTypes.BPCHAR -> textByteOrder ? (a, b) -> Arrays.compareUnsigned(a, 0, unpadded(a), b, 0, unpadded(b)) : null;
            default -> null;
        };
    }

    /**
     * interval_send: {@code Int64 microseconds, Int32 days, Int32 months}; PostgreSQL orders intervals by
     * months * 30 days + days, in microseconds, plus the time (interval_cmp_value).
     */
    private static BigInteger intervalSpan(byte[] v) {
        ByteBuffer b = ByteBuffer.wrap(v);
        long micros = b.getLong();
        long days = b.getInt();
        long months = b.getInt();
        return BigInteger.valueOf(months * 30 + days).multiply(BigInteger.valueOf(86_400_000_000L)).add(BigInteger.valueOf(micros));
    }

    private static String text(byte[] v) {
        return new String(v, StandardCharsets.UTF_8);
    }

    private static long binaryLong(byte[] v) {
        ByteBuffer b = ByteBuffer.wrap(v);
        return switch (v.length) {
            case 2 -> b.getShort();
            case 4 -> b.getInt();
            default -> b.getLong();
        };
    }

    private static int unpadded(byte[] v) {
        int n = v.length;
        while (n > 0 && v[n - 1] == ' ') {
            n--;
        }
        return n;
    }

    private static double toDouble(byte[] v, boolean bin) {
        if (bin) {
            return v.length == 4 ? ByteBuffer.wrap(v).getFloat() : ByteBuffer.wrap(v).getDouble();
        }
        return Double.parseDouble(text(v));
    }

    /** PostgreSQL's float order: NaN equals NaN and sorts above everything; -0 equals 0. */
    static int compareDouble(double a, double b) {
        boolean na = Double.isNaN(a);
        boolean nb = Double.isNaN(b);
        if (na || nb) {
            return na == nb ? 0 : na ? 1 : -1;
        }
        return a == b ? 0 : a < b ? -1 : 1;
    }

    /** A numeric as a rank (0 -Infinity, 1 number, 2 Infinity, 3 NaN) and value. */
    public record Num(int rank, BigDecimal value) {
    }

    static int compareNumeric(Num a, Num b) {
        if (a.rank != b.rank) {
            return Integer.compare(a.rank, b.rank);
        }
        return a.rank == 1 ? a.value.compareTo(b.value) : 0;
    }

    static Num textNumeric(String s) {
        return switch (s) {
            case "NaN" -> new Num(3, null);
            case "Infinity" -> new Num(2, null);
            case "-Infinity" -> new Num(0, null);
            default -> new Num(1, new BigDecimal(s));
        };
    }

    /** numeric_send: {@code Int16 ndigits, Int16 weight, Int16 sign, Int16 dscale, Int16 digit[ndigits]} (base 10000). */
    public static Num binaryNumeric(byte[] v) {
        ByteBuffer b = ByteBuffer.wrap(v);
        int ndigits = b.getShort();
        int weight = b.getShort();
        int sign = b.getShort() & 0xffff;
        int dscale = b.getShort();
        switch (sign) {
            case 0xC000 -> {
                return new Num(3, null);
            }
            case 0xD000 -> {
                return new Num(2, null);
            }
            case 0xF000 -> {
                return new Num(0, null);
            }
            default -> {
                // a number
            }
        }
        BigInteger unscaled = BigInteger.ZERO;
        BigInteger base = BigInteger.valueOf(10000);
        for (int i = 0; i < ndigits; i++) {
            unscaled = unscaled.multiply(base).add(BigInteger.valueOf(b.getShort()));
        }
        // value = unscaled * 10000^(weight - ndigits + 1)
        BigDecimal value = new BigDecimal(unscaled).scaleByPowerOfTen(4 * (weight - ndigits + 1));
        try {
            value = value.setScale(dscale, java.math.RoundingMode.UNNECESSARY); // the display scale, as text would show it
        } catch (ArithmeticException e) {
            // digits beyond the display scale: keep them (the value is what counts for ordering)
        }
        return new Num(1, sign == 0x4000 ? value.negate() : value);
    }

    private static long textDate(String s) {
        if (s.equals("infinity")) {
            return Long.MAX_VALUE;
        }
        if (s.equals("-infinity")) {
            return Long.MIN_VALUE;
        }
        if (s.endsWith(" BC") || s.length() != 10) {
            throw new UnsupportedOperationException("date " + s + " is not in the ISO style");
        }
        return LocalDate.parse(s).toEpochDay();
    }

    private static long textTimestamp(String s, boolean withZone) {
        if (s.equals("infinity")) {
            return Long.MAX_VALUE;
        }
        if (s.equals("-infinity")) {
            return Long.MIN_VALUE;
        }
        if (s.endsWith(" BC") || s.length() < 19 || s.charAt(10) != ' ') {
            throw new UnsupportedOperationException("timestamp " + s + " is not in the ISO style");
        }
        if (!withZone) {
            return ChronoUnit.MICROS.between(PG_EPOCH, LocalDateTime.parse(s, TIMESTAMP));
        }
        int sign = Math.max(s.lastIndexOf('+'), s.lastIndexOf('-'));
        String offset = s.substring(sign);
        String[] parts = offset.substring(1).split(":");
        int seconds = Integer.parseInt(parts[0]) * 3600 + (parts.length > 1 ? Integer.parseInt(parts[1]) * 60 : 0)
                + (parts.length > 2 ? Integer.parseInt(parts[2]) : 0);
        ZoneOffset zone = ZoneOffset.ofTotalSeconds(offset.charAt(0) == '-' ? -seconds : seconds);
        OffsetDateTime t = LocalDateTime.parse(s.substring(0, sign), TIMESTAMP).atOffset(zone);
        return ChronoUnit.MICROS.between(PG_EPOCH.atOffset(ZoneOffset.UTC), t);
    }
}
