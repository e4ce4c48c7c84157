package dev.pgreshard.proxy.protocol;

import io.netty.buffer.ByteBuf;
import io.netty.util.ReferenceCounted;

/**
 * One message of the message phase, as it came off the wire: {@code Byte1 type, Int32 length
 * (including itself, excluding the type), body}. {@link #frame()} holds the whole message so that
 * pass-through can forward it unchanged; {@link #body()} is a view of the bytes after the header.
 * The frame owns one reference of its buffer: whoever consumes it either writes it on (which
 * releases it) or calls {@link #release()}.
 */
public record PgFrame(byte type, ByteBuf frame) implements ReferenceCounted {
    public static final int HEADER = 5;

    public char typeChar() {
        return (char) type;
    }

    /** The body (after type and length), without changing reader indexes or reference counts. */
    public ByteBuf body() {
        return frame.slice(frame.readerIndex() + HEADER, frame.readableBytes() - HEADER);
    }

    public int bodyLength() {
        return frame.readableBytes() - HEADER;
    }

    @Override
    public int refCnt() {
        return frame.refCnt();
    }

    @Override
    public PgFrame retain() {
        frame.retain();
        return this;
    }

    @Override
    public PgFrame retain(int increment) {
        frame.retain(increment);
        return this;
    }

    @Override
    public PgFrame touch() {
        frame.touch();
        return this;
    }

    @Override
    public PgFrame touch(Object hint) {
        frame.touch(hint);
        return this;
    }

    @Override
    public boolean release() {
        return frame.release();
    }

    @Override
    public boolean release(int decrement) {
        return frame.release(decrement);
    }

    /** A deep copy on the heap, independent of the original buffer's lifetime (for recorded statements). */
    public PgFrame copy() {
        return new PgFrame(type, frame.copy());
    }
}
