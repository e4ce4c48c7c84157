package dev.pgreshard.core.sharding;

import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.UUID;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ShardKeyTypeTest {

    @Test
    void integerAndBigintHashAlikeForTheSameValue() {
        for (int v : new int[] {0, 1, -1, 42, Integer.MIN_VALUE, Integer.MAX_VALUE}) {
            assertEquals(new ShardFunction(ShardKeyType.BIGINT, 7).shardOf((long) v),
                    new ShardFunction(ShardKeyType.INTEGER, 7).shardOf(v), "value " + v);
        }
    }

    @Test
    void everyEntryPointGivesTheSameShard() {
        ShardFunction f = new ShardFunction(ShardKeyType.UUID, 16);
        UUID u = UUID.fromString("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11");
        byte[] raw = ByteBuffer.allocate(16).putLong(u.getMostSignificantBits()).putLong(u.getLeastSignificantBits()).array();
        int shard = f.shardOf(u);
        assertEquals(shard, f.shardOfText("A0EEBC999C0B4EF8BB6D6BB9BD380A11"));
        assertEquals(shard, f.shardOfText("{a0eebc99-9c0b4ef8-bb6d6bb9-bd380a11}"));
        assertEquals(shard, f.shardOfBinary(raw, 0, 16));
        assertEquals(shard, f.shardOf(raw));

        ShardFunction t = new ShardFunction(ShardKeyType.TEXT, 5);
        byte[] utf8 = "zß😀".getBytes(StandardCharsets.UTF_8);
        assertEquals(t.shardOf("zß😀"), t.shardOfBinary(utf8, 0, utf8.length));

        ShardFunction b = new ShardFunction(ShardKeyType.BIGINT, 3);
        assertEquals(b.shardOf(-5L), b.shardOfBinary(ByteBuffer.allocate(8).putLong(-5).array(), 0, 8));
        assertEquals(b.shardOf(-5L), b.shardOf("-5"));
    }

    @Test
    void nullGoesToShardZeroLikePostgres() {
        assertEquals(0, new ShardFunction(ShardKeyType.BIGINT, 4).shardOf(null));
        assertEquals(0, new ShardFunction(ShardKeyType.TEXT, 4).shardOfBinary(new byte[0], 0, -1));
    }

    @Test
    void badValuesAreRejectedWithTheValueAndType() {
        ShardKeyParseException e = assertThrows(ShardKeyParseException.class, () -> ShardKeyType.BIGINT.parse("12x"));
        assertEquals("'12x' is not a valid bigint value", e.getMessage());
        assertThrows(ShardKeyParseException.class, () -> ShardKeyType.INTEGER.parse("2147483648"));
        assertThrows(ShardKeyParseException.class, () -> ShardKeyType.UUID.parse("a0eebc99-9c0b"));
        assertThrows(ShardKeyParseException.class, () -> ShardKeyType.UUID.parse("g0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"));
        assertThrows(ShardKeyParseException.class, () -> ShardKeyType.UUID.parse("a0eebc99--9c0b-4ef8-bb6d-6bb9bd380a11"));
        assertThrows(ShardKeyParseException.class, () -> ShardKeyType.INTEGER.hash(3_000_000_000L, 0));
        assertThrows(ShardKeyParseException.class,
                () -> new ShardFunction(ShardKeyType.BIGINT, 2).shardOfBinary(new byte[4], 0, 4));
    }

    @Test
    void configNamesAreTheContract() {
        assertEquals("bigint, integer, text, varchar, uuid", ShardKeyType.configNames());
        assertTrue(ShardKeyType.fromConfig("BIGINT").isPresent());
        assertTrue(ShardKeyType.fromConfig("numeric").isEmpty());
    }
}
