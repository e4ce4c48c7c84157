package dev.pgreshard.proxy.protocol;

import io.netty.buffer.ByteBuf;

import java.nio.charset.StandardCharsets;

/** Primitive field codecs of the protocol: {@code String} is UTF-8 terminated by a zero byte. */
public final class Wire {
    private Wire() {
    }

    public static String readCString(ByteBuf buf) {
        int end = buf.indexOf(buf.readerIndex(), buf.writerIndex(), (byte) 0);
        if (end < 0) {
            throw new ProtocolException("unterminated string in message");
        }
        String s = buf.toString(buf.readerIndex(), end - buf.readerIndex(), StandardCharsets.UTF_8);
        buf.readerIndex(end + 1);
        return s;
    }

    public static void writeCString(ByteBuf buf, String s) {
        buf.writeCharSequence(s, StandardCharsets.UTF_8);
        buf.writeByte(0);
    }

    /** Reads a length-prefixed byte field ({@code Int32 n, Byte n}; n = -1 is NULL → null). */
    public static byte[] readNullableBytes(ByteBuf buf) {
        int n = buf.readInt();
        if (n == -1) {
            return null;
        }
        if (n < 0 || n > buf.readableBytes()) {
            throw new ProtocolException("invalid field length " + n);
        }
        byte[] b = new byte[n];
        buf.readBytes(b);
        return b;
    }

    /** Starts a message: type byte and a length placeholder; finish with {@link #endMessage}. */
    public static int beginMessage(ByteBuf buf, char type) {
        buf.writeByte(type);
        int at = buf.writerIndex();
        buf.writeInt(0);
        return at;
    }

    public static void endMessage(ByteBuf buf, int lengthAt) {
        buf.setInt(lengthAt, buf.writerIndex() - lengthAt);
    }
}
