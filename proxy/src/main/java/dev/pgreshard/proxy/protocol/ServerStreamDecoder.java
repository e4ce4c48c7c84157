package dev.pgreshard.proxy.protocol;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;

import java.util.List;

/**
 * Splits a server connection's byte stream ({@code Byte1 type, Int32 length including itself, body}
 * per message) in one of two ways, switchable between any two emitted objects:
 * <ul>
 * <li><b>frames</b> (the default): one {@link PgFrame} per message — for the login, for handlers that
 * read the answers (sharded), and while a pass-through handler swallows answers to its own requests;</li>
 * <li><b>relay</b>: one {@link RelayedBytes} per read — everything the read brought, to forward as it
 * is, with the ReadyForQuery and ErrorResponse messages counted. A message larger than what one read
 * brought is passed on in parts as it arrives (its header first), so a 100 MB row is never gathered
 * in memory; only ReadyForQuery and ErrorResponse are held until whole, since their contents are read.
 * An ErrorResponse of severity FATAL or PANIC (the server ends the session) ends the bytes before it
 * and comes on its own as a PgFrame.</li>
 * </ul>
 * Each call of {@link #decode} emits at most one object, so a mode change made while handling it
 * applies to the very next byte.
 */
public final class ServerStreamDecoder extends ByteToMessageDecoder {
    private final int maxMessage;
    private boolean relay;
    /** Bytes of a message whose beginning was already relayed that are still to come. */
    private long passRemaining;

    public ServerStreamDecoder(int maxMessage) {
        this.maxMessage = maxMessage;
    }

    /** Relay mode on or off; takes effect from the next emitted object. Event loop only. */
    public void relay(boolean on) {
        relay = on;
    }

    public boolean relaying() {
        return relay;
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        if (relay || passRemaining > 0) {
            decodeRelay(in, out);
        } else {
            decodeFrame(in, out);
        }
    }

    private void decodeFrame(ByteBuf in, List<Object> out) {
        if (in.readableBytes() < PgFrame.HEADER) {
            return;
        }
        int start = in.readerIndex();
        byte type = in.getByte(start);
        int length = checkedLength(type, in.getInt(start + 1));
        if (in.readableBytes() >= length + 1) {
            out.add(new PgFrame(type, in.readRetainedSlice(length + 1)));
        }
    }

    private void decodeRelay(ByteBuf in, List<Object> out) {
        int start = in.readerIndex();
        int end = in.writerIndex();
        int pos = start;
        int ready = 0;
        char status = 0;
        int errors = 0;
        if (passRemaining > 0) {
            int n = (int) Math.min(passRemaining, end - pos);
            pos += n;
            passRemaining -= n;
        }
        boolean fatalNext = false;
        while (passRemaining == 0 && relay && end - pos >= PgFrame.HEADER) {
            byte type = in.getByte(pos);
            int total = checkedLength(type, in.getInt(pos + 1)) + 1;
            if (type == 'Z' || type == 'E') {
                if (end - pos < total) {
                    break; // read whole: held until the rest arrives
                }
                if (type == 'Z') {
                    ready++;
                    status = total > PgFrame.HEADER ? (char) in.getByte(pos + PgFrame.HEADER) : 0;
                } else if (ServerMessages.isFatal(in, pos + PgFrame.HEADER, pos + total)) {
                    fatalNext = true;
                    break;
                } else {
                    errors++;
                }
                pos += total;
            } else {
                int n = Math.min(total, end - pos);
                pos += n;
                passRemaining = total - n;
            }
        }
        if (pos > start) {
            out.add(new RelayedBytes(in.readRetainedSlice(pos - start), ready, status, errors));
        } else if (fatalNext || !relay) {
            decodeFrame(in, out);
        }
    }

    private int checkedLength(byte type, int length) {
        if (length < 4 || length > maxMessage) {
            throw new ProtocolException("invalid message length " + length + " for message type '"
                    + (type >= 32 && type < 127 ? String.valueOf((char) type) : String.format("\\x%02x", type & 0xff))
                    + "' from the server (limit " + maxMessage + " bytes)");
        }
        return length;
    }
}
