package dev.pgreshard.core.sharding;

/**
 * Which of {@code shardCount} shards holds a key: exactly the partition PostgreSQL's
 * {@code PARTITION BY HASH} with {@code MODULUS shardCount} routes the value to, i.e.
 * {@code hash_combine64(0, h(v)) mod N} with {@code h} seeded by {@link PgHash#HASH_PARTITION_SEED}.
 * A NULL key goes to shard 0, as PostgreSQL leaves a null key's row hash at 0.
 */
public record ShardFunction(ShardKeyType keyType, int shardCount) {
    public ShardFunction {
        if (shardCount < 1) {
            throw new IllegalArgumentException("a cluster needs at least one shard, got " + shardCount);
        }
    }

    /** The shard of a Java value (Long, Integer, String, UUID, ...) or of text to be parsed; null → 0. */
    public int shardOf(Object value) {
        if (value == null) {
            return 0;
        }
        return remainder(keyType.hash(value, PgHash.HASH_PARTITION_SEED));
    }

    /** The shard of a key given as text in PostgreSQL's input format (CLI, SQL literal, pgoutput text). */
    public int shardOfText(String text) {
        return text == null ? 0 : shardOf(keyType.parse(text));
    }

    /** The shard of a key in binary send format, e.g. a field of {@code COPY ... (FORMAT binary)}; len -1 = NULL. */
    public int shardOfBinary(byte[] buf, int off, int len) {
        if (len < 0) {
            return 0;
        }
        return remainder(keyType.hashBinary(buf, off, len, PgHash.HASH_PARTITION_SEED));
    }

    private int remainder(long keyHash) {
        long rowHash = PgHash.hashCombine64(0, keyHash);
        return (int) Long.remainderUnsigned(rowHash, shardCount);
    }
}
