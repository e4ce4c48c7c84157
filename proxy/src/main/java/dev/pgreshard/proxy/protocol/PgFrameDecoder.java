package dev.pgreshard.proxy.protocol;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;

import java.util.List;

/**
 * Splits a byte stream into PostgreSQL messages. Two explicit framings:
 * <ul>
 * <li><b>startup</b> (frontend only, before authentication): {@code Int32 length (including itself),
 * payload}; decoded into a {@link StartupPacket}. 8 to {@link #MAX_STARTUP} bytes, like the server,
 * which closes the connection without a reply on any other length (e.g. a Terminate sent first).</li>
 * <li><b>message</b>: {@code Byte1 type, Int32 length (including itself), body}; emitted as a {@link PgFrame}
 * per message (server side), or, for a client, as one {@link ByteBuf} holding every whole message a read
 * brought (a "run": the session walks it in place, and pass-through forwards consecutive messages of it as
 * one slice). A length below 4 or above the cap is a protocol violation, never an allocation; a message is
 * emitted only once it is whole.</li>
 * </ul>
 * The owner switches from startup to message framing with {@link #startMessages()} once the
 * StartupMessage has been read (SSLRequest and GSSENCRequest keep the startup framing).
 */
public final class PgFrameDecoder extends ByteToMessageDecoder {
    /** PostgreSQL's MAX_STARTUP_PACKET_LENGTH (10000) counts the payload after the length word. */
    public static final int MAX_STARTUP = 10_000 + 4;
    /** Default cap on one message: large enough for big bind parameters and COPY chunks, small enough to bound memory. */
    public static final int DEFAULT_MAX_MESSAGE = 64 * 1024 * 1024;

    /** Largest message accepted from a server: PostgreSQL's 1 GB field limit plus room for framing. */
    public static final int MAX_SERVER_MESSAGE = (1 << 30) + (1 << 20);

    private final int maxMessage;
    private final boolean runs;
    private boolean startup;

    private PgFrameDecoder(boolean startup, int maxMessage, boolean runs) {
        this.startup = startup;
        this.maxMessage = maxMessage;
        this.runs = runs;
    }

    /** For a client connection: starts in startup framing; messages then come as runs (ByteBuf). */
    public static PgFrameDecoder forClient(int maxMessage) {
        return new PgFrameDecoder(true, maxMessage, true);
    }

    /** For a server connection: the server always uses message framing, one PgFrame per message. */
    public static PgFrameDecoder forServer(int maxMessage) {
        return new PgFrameDecoder(false, maxMessage, false);
    }

    public void startMessages() {
        startup = false;
    }

    public boolean inStartup() {
        return startup;
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        if (startup) {
            decodeStartup(ctx, in, out);
        } else {
            decodeMessage(in, out);
        }
    }

    private void decodeStartup(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        if (in.readableBytes() < 4) {
            return;
        }
        int length = in.getInt(in.readerIndex());
        if (length < 8 || length > MAX_STARTUP) {
            throw ProtocolException.silent("invalid startup packet length " + length);
        }
        if (in.readableBytes() < length) {
            return;
        }
        ByteBuf packet = in.readSlice(length);
        int major = packet.getInt(packet.readerIndex() + 4) >>> 16;
        if (major < 3) {
            // answered in protocol 2's own error layout, as PostgreSQL does; then closed without a further word
            String message = "unsupported frontend protocol " + major + "." + (packet.getInt(packet.readerIndex() + 4) & 0xffff)
                    + ": server supports 3.0 to 3.0";
            ctx.writeAndFlush(BackendMessages.errorProtocol2(ctx.alloc(), "FATAL", message));
            throw ProtocolException.silent(message);
        }
        StartupPacket decoded = StartupPacket.decode(packet);
        if (decoded instanceof StartupPacket.StartupMessage) {
            startup = false;
        } else if (decoded instanceof StartupPacket.SslRequest || decoded instanceof StartupPacket.GssEncRequest) {
            // nothing may follow before our one-byte answer: bytes sent ahead would bypass the TLS handshake
            if (in.isReadable()) {
                throw new ProtocolException("unexpected data after an encryption request");
            }
        }
        out.add(decoded);
    }

    private void decodeMessage(ByteBuf in, List<Object> out) {
        int start = in.readerIndex();
        int end = in.writerIndex();
        int at = start;
        while (end - at >= PgFrame.HEADER) {
            byte type = in.getByte(at);
            int length = in.getInt(at + 1);
            if (length < 4 || length > maxMessage) {
                if (runs && at > start) {
                    break; // the whole messages before it first, as a client sent them
                }
                throw new ProtocolException("invalid message length " + length + " for message type '"
                        + printable(type) + "' (limit " + maxMessage + " bytes)");
            }
            if (end - at < length + 1) {
                break;
            }
            if (!runs) {
                out.add(new PgFrame(type, in.readRetainedSlice(length + 1)));
            }
            at += length + 1;
        }
        if (runs && at > start) {
            out.add(in.readRetainedSlice(at - start));
        }
    }

    private static String printable(byte b) {
        return b >= 32 && b < 127 ? String.valueOf((char) b) : String.format("\\x%02x", b & 0xff);
    }
}
