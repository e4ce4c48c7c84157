package dev.pgreshard.core.sharding;

import dev.pgreshard.testkit.PostgresExtension;
import dev.pgreshard.testkit.TestDatabase;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.UUID;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Our sharding function against PostgreSQL's own hash partitioning: for each key type and modulus,
 * every row must sit in the partition {@link ShardFunction} names, whether the key reaches us as a
 * Java value, as text, or as the binary send format.
 */
@ExtendWith(PostgresExtension.class)
class ShardFunctionPostgresTest {
    private static final int[] MODULI = {2, 3, 4, 7, 16};
    private static final int VALUES = 10_000;
    private final Random random = new Random(20261121L);

    @Test
    void bigintMatchesPostgres(TestDatabase db) throws Exception {
        Set<Object> values = new LinkedHashSet<>(List.of(0L, 1L, -1L, Long.MIN_VALUE, Long.MAX_VALUE,
                (long) Integer.MIN_VALUE, (long) Integer.MAX_VALUE, (long) Integer.MIN_VALUE - 1, (long) Integer.MAX_VALUE + 1));
        while (values.size() < VALUES) {
            values.add(switch (random.nextInt(3)) {
                case 0 -> random.nextLong();
                case 1 -> (long) random.nextInt();
                default -> (long) (random.nextInt(2000) - 1000);
            });
        }
        check(db, ShardKeyType.BIGINT, "bigint", "int8send", values);
    }

    @Test
    void integerMatchesPostgres(TestDatabase db) throws Exception {
        Set<Object> values = new LinkedHashSet<>(List.of(0, 1, -1, Integer.MIN_VALUE, Integer.MAX_VALUE));
        while (values.size() < VALUES) {
            values.add(random.nextBoolean() ? random.nextInt() : random.nextInt(2000) - 1000);
        }
        check(db, ShardKeyType.INTEGER, "integer", "int4send", values);
    }

    @Test
    void textMatchesPostgres(TestDatabase db) throws Exception {
        check(db, ShardKeyType.TEXT, "text", "textsend", strings());
    }

    @Test
    void varcharMatchesPostgres(TestDatabase db) throws Exception {
        check(db, ShardKeyType.VARCHAR, "varchar(200)", "varcharsend", strings());
    }

    @Test
    void uuidMatchesPostgres(TestDatabase db) throws Exception {
        Set<Object> values = new LinkedHashSet<>(List.of(new UUID(0, 0), new UUID(-1, -1),
                UUID.fromString("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11")));
        while (values.size() < VALUES) {
            values.add(new UUID(random.nextLong(), random.nextLong()));
        }
        check(db, ShardKeyType.UUID, "uuid", "uuid_send", values);
    }

    private Set<Object> strings() {
        String[] alphabet = {"a", "Z", "0", " ", "é", "ß", "中", "文", "😀", "🚀", "\u0301", "'", "\"", "\\", "ü", "Ω"};
        Set<Object> values = new LinkedHashSet<>(List.of("", "a", "customer-1", "Line Items", "emoji 😀 and 中文"));
        while (values.size() < VALUES) {
            int len = random.nextInt(40);
            StringBuilder sb = new StringBuilder();
            for (int i = 0; i < len; i++) {
                sb.append(random.nextInt(3) == 0 ? alphabet[random.nextInt(alphabet.length)]
                        : String.valueOf((char) ('a' + random.nextInt(26))));
            }
            values.add(sb.toString());
        }
        return values;
    }

    private void check(TestDatabase db, ShardKeyType type, String sqlType, String sendFunction, Set<Object> values)
            throws Exception {
        try (Connection c = db.connect()) {
            assertEquals("UTF8", query(c, "SHOW server_encoding"), "test database must be UTF8 for multi-byte keys");
            for (int modulus : MODULI) {
                String parent = "t_" + modulus;
                try (Statement s = c.createStatement()) {
                    s.execute("CREATE TABLE " + parent + " (k " + sqlType + ") PARTITION BY HASH (k)");
                    for (int r = 0; r < modulus; r++) {
                        s.execute("CREATE TABLE " + parent + "_" + r + " PARTITION OF " + parent
                                + " FOR VALUES WITH (MODULUS " + modulus + ", REMAINDER " + r + ")");
                    }
                }
                c.setAutoCommit(false);
                try (PreparedStatement ps = c.prepareStatement("INSERT INTO " + parent + " VALUES (?)")) {
                    for (Object v : values) {
                        ps.setObject(1, v);
                        ps.addBatch();
                    }
                    ps.executeBatch();
                }
                c.commit();
                c.setAutoCommit(true);
                ShardFunction f = new ShardFunction(type, modulus);
                List<String> mismatches = new ArrayList<>();
                int rows = 0;
                try (Statement s = c.createStatement();
                     ResultSet rs = s.executeQuery("SELECT tableoid::regclass::text, k::text, " + sendFunction + "(k) FROM "
                             + parent)) {
                    while (rs.next()) {
                        rows++;
                        String partition = rs.getString(1);
                        int expected = Integer.parseInt(partition.substring(partition.lastIndexOf('_') + 1));
                        String text = rs.getString(2);
                        byte[] binary = rs.getBytes(3);
                        int byText = f.shardOfText(text);
                        int byBinary = f.shardOfBinary(binary, 0, binary.length);
                        int byValue = f.shardOf(type.parse(text));
                        if (byText != expected || byBinary != expected || byValue != expected) {
                            mismatches.add(type + " '" + text + "' mod " + modulus + ": postgres " + expected
                                    + ", ours text/binary/value " + byText + "/" + byBinary + "/" + byValue);
                        }
                    }
                }
                assertEquals(values.size(), rows, "rows read back from " + parent);
                assertTrue(mismatches.isEmpty(), mismatches.size() + " mismatches, first: "
                        + mismatches.subList(0, Math.min(5, mismatches.size())));
            }
        }
    }

    private static String query(Connection c, String sql) throws Exception {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getString(1);
        }
    }
}
