package dev.pgreshard.activities.copy;

import java.io.IOException;
import java.util.Arrays;

/**
 * Splits the byte stream of {@code COPY ... TO STDOUT (FORMAT binary)} into tuples without decoding
 * them; for a few watched fields (the shard key, arrays whose element OID is rewritten) it reports
 * where they are.
 *
 * <p>Layout (PostgreSQL docs, "COPY binary format"):
 * <pre>
 * header : "PGCOPY\n\377\r\n\0" (11 bytes), int32 flags, int32 extension length, extension bytes
 * tuple  : int16 field count, then per field int32 length (-1 = NULL) followed by that many bytes
 * trailer: int16 -1
 * </pre>
 * The server sends one CopyData message per row (the header rides with the first), so the usual
 * chunk holds exactly one tuple and is parsed in place; a tuple split across chunks is assembled in
 * a buffer that grows only to the largest row. Memory is therefore bounded by the widest row, never
 * by the table.
 */
final class BinaryCopyParser {
    static final byte[] SIGNATURE = {'P', 'G', 'C', 'O', 'P', 'Y', '\n', (byte) 0xFF, '\r', '\n', 0};
    /** The 19-byte header a COPY FROM (FORMAT binary) stream starts with: signature, flags 0, no extension. */
    static final byte[] HEADER = Arrays.copyOf(SIGNATURE, SIGNATURE.length + 8);
    static final byte[] TRAILER = {(byte) 0xFF, (byte) 0xFF};

    /**
     * Receives each tuple as a slice of a buffer that is only valid during the call; fieldOff/fieldLen
     * give, per watched field in the order given, the offset of its value and its length (-1 = NULL).
     */
    interface TupleSink {
        void tuple(byte[] buf, int off, int len, int[] fieldOff, int[] fieldLen) throws IOException;
    }

    private final int fieldCount;
    private final int[] slotOfField;
    private final int[] fieldOff;
    private final int[] fieldLen;
    private final TupleSink sink;
    private byte[] pending = new byte[0];
    private int pendingLen;
    private boolean headerDone;
    private boolean finished;

    /** @param watched indexes of the fields whose position to report */
    BinaryCopyParser(int fieldCount, int[] watched, TupleSink sink) {
        this.fieldCount = fieldCount;
        this.slotOfField = new int[fieldCount];
        Arrays.fill(slotOfField, -1);
        for (int i = 0; i < watched.length; i++) {
            slotOfField[watched[i]] = i;
        }
        this.fieldOff = new int[watched.length];
        this.fieldLen = new int[watched.length];
        this.sink = sink;
    }

    void feed(byte[] chunk) throws IOException {
        if (pendingLen == 0) {
            int used = parse(chunk, 0, chunk.length);
            keep(chunk, used, chunk.length - used);
        } else {
            keep(chunk, 0, chunk.length);
            int used = parse(pending, 0, pendingLen);
            System.arraycopy(pending, used, pending, 0, pendingLen - used);
            pendingLen -= used;
        }
    }

    /** True once the trailer was seen; anything else at the end means the stream was cut. */
    boolean finished() {
        return finished && pendingLen == 0;
    }

    private void keep(byte[] b, int off, int len) {
        if (len == 0) {
            return;
        }
        if (pendingLen + len > pending.length) {
            pending = Arrays.copyOf(pending, Math.max(pendingLen + len, pending.length * 2));
        }
        System.arraycopy(b, off, pending, pendingLen, len);
        pendingLen += len;
    }

    /** Parses whole units from b[off, end); returns the bytes consumed. */
    private int parse(byte[] b, int off, int end) throws IOException {
        int p = off;
        if (!headerDone) {
            if (end - p < 19) {
                return 0;
            }
            for (int i = 0; i < SIGNATURE.length; i++) {
                if (b[p + i] != SIGNATURE[i]) {
                    throw new IOException("not a binary COPY stream (bad signature)");
                }
            }
            int extension = readInt(b, p + 15);
            if (end - p < 19 + extension) {
                return 0;
            }
            p += 19 + extension;
            headerDone = true;
        }
        while (p + 2 <= end) {
            if (finished) {
                throw new IOException("data after the binary COPY trailer");
            }
            int n = (short) (((b[p] & 0xFF) << 8) | (b[p + 1] & 0xFF));
            if (n == -1) {
                finished = true;
                p += 2;
                continue;
            }
            if (n != fieldCount) {
                throw new IOException("binary COPY tuple has " + n + " fields, expected " + fieldCount);
            }
            int q = p + 2;
            boolean complete = true;
            for (int f = 0; f < n; f++) {
                if (q + 4 > end) {
                    complete = false;
                    break;
                }
                int len = readInt(b, q);
                q += 4;
                int slot = slotOfField[f];
                if (slot >= 0) {
                    fieldOff[slot] = q;
                    fieldLen[slot] = len;
                }
                if (len > 0) {
                    if (q + len > end || q + len < 0) {
                        complete = false;
                        break;
                    }
                    q += len;
                }
            }
            if (!complete) {
                break;
            }
            sink.tuple(b, p, q - p, fieldOff, fieldLen);
            p = q;
        }
        return p - off;
    }

    private static int readInt(byte[] b, int p) {
        return ((b[p] & 0xFF) << 24) | ((b[p + 1] & 0xFF) << 16) | ((b[p + 2] & 0xFF) << 8) | (b[p + 3] & 0xFF);
    }
}
