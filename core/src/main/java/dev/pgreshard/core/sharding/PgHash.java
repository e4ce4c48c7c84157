package dev.pgreshard.core.sharding;

/**
 * PostgreSQL's extended (64-bit, seeded) hash functions, bit for bit: Bob Jenkins' lookup3 as in
 * {@code src/common/hashfn.c}, plus {@code hashint8extended} from {@code src/backend/access/hash/hashfunc.c}.
 * All arithmetic is on unsigned 32-bit words, which Java's int does modulo 2^32 just the same.
 */
public final class PgHash {
    /** {@code HASH_PARTITION_SEED} from {@code src/include/catalog/partition.h}. */
    public static final long HASH_PARTITION_SEED = 0x7A5B22367996DCFDL;

    /** The constant {@code hash_combine64} adds (the 64-bit golden ratio variant). */
    private static final long COMBINE64_CONSTANT = 0x49a0f4dd15e5a8e3L;

    private PgHash() {
    }

    /**
     * {@code hash_combine64(a, b)}: {@code a ^= b + 0x49a0f4dd15e5a8e3 + (a << 54) + (a >> 7)} on uint64.
     * Partitioning starts from a = 0 and combines each non-null key column's hash.
     */
    public static long hashCombine64(long a, long b) {
        return a ^ (b + COMBINE64_CONSTANT + (a << 54) + (a >>> 7));
    }

    /**
     * {@code hashint8extended}: folds the high half into the low half (complemented for negative
     * values, so that int2/int4/int8 of one value hash alike), then hashes the 32-bit result.
     */
    public static long hashInt8Extended(long value, long seed) {
        int lo = (int) value;
        int hi = (int) (value >>> 32);
        lo ^= value >= 0 ? hi : ~hi;
        return hashUint32Extended(lo, seed);
    }

    /** {@code hashint4extended}: equal to {@link #hashInt8Extended} of the widened value. */
    public static long hashInt4Extended(int value, long seed) {
        return hashUint32Extended(value, seed);
    }

    /** {@code hash_uint32_extended(k, seed)}. */
    public static long hashUint32Extended(int k, long seed) {
        int a = 0x9e3779b9 + 4 + 3923095;
        int b = a;
        int c = a;
        if (seed != 0) {
            a += (int) (seed >>> 32);
            b += (int) seed;
            int[] s = mix(a, b, c);
            a = s[0];
            b = s[1];
            c = s[2];
        }
        a += k;
        return finalMix(a, b, c);
    }

    /** {@code hash_bytes_extended(k, keylen, seed)} over {@code len} bytes of {@code k} from {@code off}. */
    public static long hashBytesExtended(byte[] k, int off, int len, long seed) {
        int a = 0x9e3779b9 + len + 3923095;
        int b = a;
        int c = a;
        if (seed != 0) {
            a += (int) (seed >>> 32);
            b += (int) seed;
            int[] s = mix(a, b, c);
            a = s[0];
            b = s[1];
            c = s[2];
        }
        int p = off;
        int remaining = len;
        while (remaining >= 12) {
            a += word(k, p);
            b += word(k, p + 4);
            c += word(k, p + 8);
            int[] s = mix(a, b, c);
            a = s[0];
            b = s[1];
            c = s[2];
            p += 12;
            remaining -= 12;
        }
        // the last 0..11 bytes, little-endian; the lowest byte of c is left for the length (as in PostgreSQL)
        switch (remaining) {
            case 11: c += (k[p + 10] & 0xff) << 24; // fall through
            case 10: c += (k[p + 9] & 0xff) << 16; // fall through
            case 9: c += (k[p + 8] & 0xff) << 8; // fall through
            case 8: b += (k[p + 7] & 0xff) << 24; // fall through
            case 7: b += (k[p + 6] & 0xff) << 16; // fall through
            case 6: b += (k[p + 5] & 0xff) << 8; // fall through
            case 5: b += k[p + 4] & 0xff; // fall through
            case 4: a += (k[p + 3] & 0xff) << 24; // fall through
            case 3: a += (k[p + 2] & 0xff) << 16; // fall through
            case 2: a += (k[p + 1] & 0xff) << 8; // fall through
            case 1: a += k[p] & 0xff; // fall through
            default: break;
        }
        return finalMix(a, b, c);
    }

    private static int word(byte[] k, int p) {
        return (k[p] & 0xff) | (k[p + 1] & 0xff) << 8 | (k[p + 2] & 0xff) << 16 | (k[p + 3] & 0xff) << 24;
    }

    /** lookup3 {@code mix(a, b, c)}. */
    private static int[] mix(int a, int b, int c) {
        a -= c; a ^= Integer.rotateLeft(c, 4);  c += b;
        b -= a; b ^= Integer.rotateLeft(a, 6);  a += c;
        c -= b; c ^= Integer.rotateLeft(b, 8);  b += a;
        a -= c; a ^= Integer.rotateLeft(c, 16); c += b;
        b -= a; b ^= Integer.rotateLeft(a, 19); a += c;
        c -= b; c ^= Integer.rotateLeft(b, 4);  b += a;
        return new int[] {a, b, c};
    }

    /** lookup3 {@code final(a, b, c)}, returning {@code ((uint64) b << 32) | c}. */
    private static long finalMix(int a, int b, int c) {
        c ^= b; c -= Integer.rotateLeft(b, 14);
        a ^= c; a -= Integer.rotateLeft(c, 11);
        b ^= a; b -= Integer.rotateLeft(a, 25);
        c ^= b; c -= Integer.rotateLeft(b, 16);
        a ^= c; a -= Integer.rotateLeft(c, 4);
        b ^= a; b -= Integer.rotateLeft(a, 14);
        c ^= b; c -= Integer.rotateLeft(b, 24);
        return ((long) b << 32) | (c & 0xFFFFFFFFL);
    }
}
