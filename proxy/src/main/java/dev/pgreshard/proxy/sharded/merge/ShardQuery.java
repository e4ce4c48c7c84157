package dev.pgreshard.proxy.sharded.merge;

import dev.pgreshard.proxy.protocol.Wire;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;

import java.util.ArrayList;
import java.util.List;

/**
 * One statement sent to a shard through the extended protocol, unnamed statement and portal, so the
 * proxy chooses the result format per column (binary for values it merges):
 * 'P' Parse {@code String name, String sql, Int16 n, Int32 paramType[n]};
 * 'B' Bind {@code String portal, String statement, Int16 nf, Int16 format[nf], Int16 np,
 * (Int32 len, Byte[len])[np], Int16 nr, Int16 resultFormat[nr]};
 * 'D' Describe {@code Byte1 'S'|'P', String name}; 'E' Execute {@code String portal, Int32 maxRows}; 'S' Sync.
 */
public final class ShardQuery {
    private ShardQuery() {
    }

    /** Parse, Bind, Describe portal, Execute and Sync of {@code sql}. */
    public static List<ByteBuf> execute(String sql, int[] paramTypes, short[] paramFormats, byte[][] params,
                                        short[] resultFormats) {
        List<ByteBuf> out = new ArrayList<>();
        out.add(parse(sql, paramTypes));
        out.add(bind(paramFormats, params, resultFormats));
        out.add(describe('P'));
        ByteBuf e = Unpooled.buffer();
        int at = Wire.beginMessage(e, 'E');
        Wire.writeCString(e, "");
        e.writeInt(0);
        Wire.endMessage(e, at);
        out.add(e);
        out.add(Unpooled.buffer(5).writeByte('S').writeInt(4));
        return out;
    }

    public static ByteBuf parse(String sql, int[] paramTypes) {
        ByteBuf b = Unpooled.buffer();
        int at = Wire.beginMessage(b, 'P');
        Wire.writeCString(b, "");
        Wire.writeCString(b, sql);
        b.writeShort(paramTypes.length);
        for (int t : paramTypes) {
            b.writeInt(t);
        }
        Wire.endMessage(b, at);
        return b;
    }

    public static ByteBuf describe(char kind) {
        ByteBuf b = Unpooled.buffer();
        int at = Wire.beginMessage(b, 'D');
        b.writeByte(kind);
        Wire.writeCString(b, "");
        Wire.endMessage(b, at);
        return b;
    }

    private static ByteBuf bind(short[] paramFormats, byte[][] params, short[] resultFormats) {
        ByteBuf b = Unpooled.buffer();
        int at = Wire.beginMessage(b, 'B');
        Wire.writeCString(b, "");
        Wire.writeCString(b, "");
        b.writeShort(paramFormats.length);
        for (short f : paramFormats) {
            b.writeShort(f);
        }
        b.writeShort(params.length);
        for (byte[] p : params) {
            if (p == null) {
                b.writeInt(-1);
            } else {
                b.writeInt(p.length).writeBytes(p);
            }
        }
        b.writeShort(resultFormats.length);
        for (short f : resultFormats) {
            b.writeShort(f);
        }
        Wire.endMessage(b, at);
        return b;
    }

    /** The result format codes of a client's Bind frame (whole frame), which the decoded Bind leaves out. */
    public static short[] resultFormats(ByteBuf bindFrame) {
        ByteBuf b = bindFrame.duplicate();
        b.skipBytes(5);
        Wire.readCString(b);
        Wire.readCString(b);
        b.skipBytes(2 * b.readUnsignedShort());
        int np = b.readUnsignedShort();
        for (int i = 0; i < np; i++) {
            int len = b.readInt();
            if (len > 0) {
                b.skipBytes(len);
            }
        }
        short[] formats = new short[b.readUnsignedShort()];
        for (int i = 0; i < formats.length; i++) {
            formats[i] = b.readShort();
        }
        return formats;
    }

    /**
     * The result formats for a statement whose rows end with {@code extra} columns the client does not
     * see: the client's single or absent code applies to all; a per-column list gets {@code extraFormat}s.
     */
    public static short[] withExtraColumns(short[] client, int extra, short extraFormat) {
        if (client.length <= 1 || extra == 0) {
            return client;
        }
        short[] out = java.util.Arrays.copyOf(client, client.length + extra);
        java.util.Arrays.fill(out, client.length, out.length, extraFormat);
        return out;
    }
}
