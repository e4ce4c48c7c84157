package dev.pgreshard.proxy.sharded.merge;

import java.nio.ByteBuffer;
import java.util.List;

/**
 * One-dimensional arrays in PostgreSQL's binary format (array_recv): {@code Int32 ndim, Int32 hasNull,
 * Int32 elementOid, (Int32 length, Int32 lowerBound)[ndim], (Int32 len, Byte[len])*} (len -1 = NULL).
 * The elements are the shards' binary values as they came, so nothing is re-encoded.
 */
public final class PgArrays {
    private PgArrays() {
    }

    public static byte[] binary(int elementOid, List<byte[]> values) {
        boolean hasNull = values.stream().anyMatch(v -> v == null);
        long size = 20;
        for (byte[] v : values) {
            size += 4 + (v == null ? 0 : v.length);
        }
        if (size > Integer.MAX_VALUE - 16) {
            throw new IllegalArgumentException("merged column too large");
        }
        ByteBuffer b = ByteBuffer.allocate((int) size);
        if (values.isEmpty()) {
            b.putInt(0).putInt(0).putInt(elementOid);
            return java.util.Arrays.copyOf(b.array(), 12);
        }
        b.putInt(1).putInt(hasNull ? 1 : 0).putInt(elementOid).putInt(values.size()).putInt(1);
        for (byte[] v : values) {
            if (v == null) {
                b.putInt(-1);
            } else {
                b.putInt(v.length).put(v);
            }
        }
        return b.array();
    }
}
