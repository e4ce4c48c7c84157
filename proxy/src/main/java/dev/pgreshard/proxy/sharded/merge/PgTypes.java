package dev.pgreshard.proxy.sharded.merge;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Map;

/** The built-in PostgreSQL types the merge knows by OID (catalog pg_type, stable across versions). */
public final class PgTypes {
    public static final int BOOL = 16;
    public static final int BYTEA = 17;
    public static final int CHAR = 18;
    public static final int NAME = 19;
    public static final int INT8 = 20;
    public static final int INT2 = 21;
    public static final int INT4 = 23;
    public static final int TEXT = 25;
    public static final int OID = 26;
    public static final int FLOAT4 = 700;
    public static final int FLOAT8 = 701;
    public static final int BPCHAR = 1042;
    public static final int VARCHAR = 1043;
    public static final int DATE = 1082;
    public static final int TIME = 1083;
    public static final int TIMESTAMP = 1114;
    public static final int TIMESTAMPTZ = 1184;
    public static final int INTERVAL = 1186;
    public static final int NUMERIC = 1700;
    public static final int UUID = 2950;

    private static final Map<Integer, String> NAMES = Map.ofEntries(
            Map.entry(BOOL, "bool"), Map.entry(BYTEA, "bytea"), Map.entry(CHAR, "\"char\""), Map.entry(NAME, "name"),
            Map.entry(INT8, "int8"), Map.entry(INT2, "int2"), Map.entry(INT4, "int4"), Map.entry(TEXT, "text"),
            Map.entry(OID, "oid"), Map.entry(114, "json"), Map.entry(142, "xml"), Map.entry(FLOAT4, "float4"),
            Map.entry(FLOAT8, "float8"), Map.entry(790, "money"), Map.entry(829, "macaddr"), Map.entry(869, "inet"),
            Map.entry(650, "cidr"), Map.entry(BPCHAR, "bpchar"), Map.entry(VARCHAR, "varchar"), Map.entry(DATE, "date"),
            Map.entry(TIME, "time"), Map.entry(TIMESTAMP, "timestamp"), Map.entry(TIMESTAMPTZ, "timestamptz"),
            Map.entry(INTERVAL, "interval"), Map.entry(1266, "timetz"), Map.entry(1560, "bit"), Map.entry(1562, "varbit"),
            Map.entry(NUMERIC, "numeric"), Map.entry(UUID, "uuid"), Map.entry(3802, "jsonb"),
            Map.entry(1000, "bool[]"), Map.entry(1005, "int2[]"), Map.entry(1007, "int4[]"), Map.entry(1016, "int8[]"),
            Map.entry(1009, "text[]"), Map.entry(1015, "varchar[]"), Map.entry(1231, "numeric[]"));

    private PgTypes() {
    }

    /** The type's SQL name, or null when the proxy does not know it. */
    public static String name(int oid) {
        return NAMES.get(oid);
    }

    public static boolean isFloat(int oid) {
        return oid == FLOAT4 || oid == FLOAT8;
    }

    /** Types whose order depends on a collation (the ones a COLLATE clause may be put on). */
    public static boolean isCollatable(int oid) {
        return oid == TEXT || oid == VARCHAR || oid == BPCHAR;
    }

    /** A binary parameter written as text, for the types a client commonly binds binary; null otherwise. */
    public static String binaryToText(int oid, byte[] v) {
        ByteBuffer b = ByteBuffer.wrap(v);
        return switch (oid) {
            case INT2 -> v.length == 2 ? Short.toString(b.getShort()) : null;
            case INT4 -> v.length == 4 ? Integer.toString(b.getInt()) : null;
            case INT8 -> v.length == 8 ? Long.toString(b.getLong()) : null;
            case BOOL -> v.length == 1 ? (v[0] != 0 ? "t" : "f") : null;
            case TEXT, VARCHAR, BPCHAR, NAME -> new String(v, StandardCharsets.UTF_8);
            case FLOAT8 -> v.length == 8 ? Double.toString(b.getDouble()) : null; // shortest exact form
            case FLOAT4 -> v.length == 4 ? Float.toString(b.getFloat()) : null;
            case NUMERIC -> {
                SortValues.Num n = SortValues.binaryNumeric(v);
                yield switch (n.rank()) {
                    case 0 -> "-Infinity";
                    case 2 -> "Infinity";
                    case 3 -> "NaN";
                    default -> n.value().toPlainString();
                };
            }
            default -> null;
        };
    }
}
