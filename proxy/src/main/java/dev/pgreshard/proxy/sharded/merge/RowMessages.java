package dev.pgreshard.proxy.sharded.merge;

import dev.pgreshard.proxy.protocol.BackendMessages;
import dev.pgreshard.proxy.protocol.Wire;
import io.netty.buffer.ByteBuf;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads RowDescription and DataRow messages (whole frames, type byte included). Layouts:
 * 'T' {@code Int16 n, (String name, Int32 tableOid, Int16 attnum, Int32 typeOid, Int16 typlen,
 * Int32 typmod, Int16 format)[n]}; 'D' {@code Int16 n, (Int32 len, Byte[len])[n]} (len -1 = NULL).
 */
public final class RowMessages {
    /** The columns of a RowDescription. */
    public record Shape(List<String> names, int[] types, short[] formats) {
        public int width() {
            return types.length;
        }
    }

    private RowMessages() {
    }

    public static Shape shape(ByteBuf frame) {
        ByteBuf b = frame.duplicate();
        b.skipBytes(5);
        int n = b.readUnsignedShort();
        List<String> names = new ArrayList<>(n);
        int[] types = new int[n];
        short[] formats = new short[n];
        for (int i = 0; i < n; i++) {
            names.add(Wire.readCString(b));
            b.skipBytes(6);
            types[i] = b.readInt();
            b.skipBytes(6);
            formats[i] = b.readShort();
        }
        return new Shape(names, types, formats);
    }

    /** The columns of a RowDescription frame, every attribute. */
    public static List<BackendMessages.Field> fields(ByteBuf frame) {
        ByteBuf b = frame.duplicate();
        b.skipBytes(5);
        int n = b.readUnsignedShort();
        List<BackendMessages.Field> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            out.add(new BackendMessages.Field(Wire.readCString(b), b.readInt(), b.readShort(), b.readInt(), b.readShort(),
                    b.readInt(), b.readShort()));
        }
        return out;
    }

    /** The values of a DataRow (null for NULL), copied. */
    public static byte[][] values(ByteBuf frame) {
        int n = frame.getUnsignedShort(frame.readerIndex() + 5);
        byte[][] out = new byte[n][];
        int pos = frame.readerIndex() + 7;
        for (int i = 0; i < n; i++) {
            int len = frame.getInt(pos);
            pos += 4;
            if (len >= 0) {
                out[i] = new byte[len];
                frame.getBytes(pos, out[i]);
                pos += len;
            }
        }
        return out;
    }

    /** Values {@code from..} of a DataRow (null for NULL), copied. */
    public static byte[][] tail(ByteBuf frame, int from) {
        int n = frame.getUnsignedShort(frame.readerIndex() + 5);
        byte[][] out = new byte[n - from][];
        int pos = frame.readerIndex() + 7;
        for (int i = 0; i < n; i++) {
            int len = frame.getInt(pos);
            pos += 4;
            if (i >= from && len >= 0) {
                out[i - from] = new byte[len];
                frame.getBytes(pos, out[i - from]);
            }
            pos += Math.max(len, 0);
        }
        return out;
    }

    public static String text(byte[] v) {
        return v == null ? null : new String(v, StandardCharsets.UTF_8);
    }

    /** A CommandComplete tag's row count ("SELECT 5" → 5). */
    public static long selectCount(String tag) {
        int sp = tag.lastIndexOf(' ');
        try {
            return sp < 0 ? 0 : Long.parseLong(tag.substring(sp + 1));
        } catch (NumberFormatException e) {
            return 0;
        }
    }
}
