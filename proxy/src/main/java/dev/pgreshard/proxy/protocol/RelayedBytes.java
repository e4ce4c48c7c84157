package dev.pgreshard.proxy.protocol;

import io.netty.buffer.ByteBuf;
import io.netty.util.ReferenceCounted;

/**
 * Bytes of a server's stream to forward unchanged, as one read brought them: whole messages and,
 * at either end, parts of a message too large for one read (never of a ReadyForQuery or an
 * ErrorResponse: those are held until whole). What pass-through watches was counted on the way by
 * {@link ServerStreamDecoder}, so nobody needs to look at the messages one by one.
 *
 * @param bytes  the bytes (one reference, owned by whoever holds this)
 * @param ready  ReadyForQuery messages among them
 * @param status the transaction status of the last ReadyForQuery ('I', 'T' or 'E'); 0 when {@code ready} is 0
 * @param errors ErrorResponse messages among them (never one of severity FATAL or PANIC: those come as a PgFrame)
 */
public record RelayedBytes(ByteBuf bytes, int ready, char status, int errors) implements ReferenceCounted {
    @Override
    public int refCnt() {
        return bytes.refCnt();
    }

    @Override
    public RelayedBytes retain() {
        bytes.retain();
        return this;
    }

    @Override
    public RelayedBytes retain(int increment) {
        bytes.retain(increment);
        return this;
    }

    @Override
    public RelayedBytes touch() {
        bytes.touch();
        return this;
    }

    @Override
    public RelayedBytes touch(Object hint) {
        bytes.touch(hint);
        return this;
    }

    @Override
    public boolean release() {
        return bytes.release();
    }

    @Override
    public boolean release(int decrement) {
        return bytes.release(decrement);
    }
}
