package dev.pgreshard.proxy.protocol;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.buffer.UnpooledByteBufAllocator;

import java.nio.charset.StandardCharsets;
import java.util.Map;

/**
 * Encoders of the frontend messages the proxy writes itself, towards a server (the messages a client
 * sends are forwarded as the client framed them). The counterpart of {@link BackendMessages}; decoders
 * of frontend messages are in {@link FrontendMessage} and {@link StartupPacket}. Layouts of the message
 * phase are given after {@code Byte1 type, Int32 length}; the startup-phase packets have no type byte.
 */
public final class FrontendMessages {
    /**
     * For messages built where no channel's allocator is at hand (requests queued on a backend before
     * its connection exists): unpooled heap buffers, freed by the garbage collector if never written.
     */
    public static final ByteBufAllocator UNPOOLED = new UnpooledByteBufAllocator(false);

    /** CancelRequest's code in the protocol-version field: 1234 in the high 16 bits, 5678 in the low. */
    public static final int CANCEL_REQUEST_CODE = 80877102;

    private FrontendMessages() {
    }

    // ---- startup phase (no type byte)

    /**
     * StartupMessage: {@code Int32 length, Int32 196608 (protocol 3.0), (String name, String value)*,
     * Byte1 0}. {@code user} and {@code database} are written last, after the other parameters in the
     * given order.
     */
    public static ByteBuf startup(ByteBufAllocator alloc, String user, String database, Map<String, String> parameters) {
        ByteBuf b = alloc.buffer();
        b.writeInt(0);
        b.writeInt(StartupPacket.PROTOCOL_3_0);
        parameters.forEach((k, v) -> {
            if (!k.equals("user") && !k.equals("database")) {
                Wire.writeCString(b, k);
                Wire.writeCString(b, v);
            }
        });
        Wire.writeCString(b, "user");
        Wire.writeCString(b, user);
        Wire.writeCString(b, "database");
        Wire.writeCString(b, database);
        b.writeByte(0);
        b.setInt(0, b.writerIndex());
        return b;
    }

    /** CancelRequest, on a connection of its own: {@code Int32 16, Int32 80877102, Int32 processId, Int32 secretKey}. */
    public static ByteBuf cancelRequest(ByteBufAllocator alloc, int processId, int secretKey) {
        return alloc.buffer(16).writeInt(16).writeInt(CANCEL_REQUEST_CODE).writeInt(processId).writeInt(secretKey);
    }

    // ---- authentication ('p' messages; which one the server expects follows from its 'R' request)

    /** 'p' PasswordMessage (cleartext or md5): {@code String password}. */
    public static ByteBuf passwordMessage(ByteBufAllocator alloc, String password) {
        ByteBuf b = alloc.buffer();
        int at = Wire.beginMessage(b, 'p');
        Wire.writeCString(b, password);
        Wire.endMessage(b, at);
        return b;
    }

    /** 'p' SASLInitialResponse: {@code String mechanism, Int32 n, Byte[n] client-first-message}. */
    public static ByteBuf saslInitialResponse(ByteBufAllocator alloc, String mechanism, String clientFirstMessage) {
        ByteBuf b = alloc.buffer();
        int at = Wire.beginMessage(b, 'p');
        Wire.writeCString(b, mechanism);
        byte[] bytes = clientFirstMessage.getBytes(StandardCharsets.UTF_8);
        b.writeInt(bytes.length);
        b.writeBytes(bytes);
        Wire.endMessage(b, at);
        return b;
    }

    /** 'p' SASLResponse: {@code Byte[n] client-final-message} (no terminator: the length frames it). */
    public static ByteBuf saslResponse(ByteBufAllocator alloc, String clientFinalMessage) {
        ByteBuf b = alloc.buffer();
        int at = Wire.beginMessage(b, 'p');
        b.writeCharSequence(clientFinalMessage, StandardCharsets.UTF_8);
        Wire.endMessage(b, at);
        return b;
    }

    // ---- message phase

    /** 'Q' Query: {@code String sql}. */
    public static ByteBuf query(ByteBufAllocator alloc, String sql) {
        byte[] b = sql.getBytes(StandardCharsets.UTF_8);
        return alloc.buffer(6 + b.length).writeByte('Q').writeInt(5 + b.length).writeBytes(b).writeByte(0);
    }

    /** 'S' Sync: empty. Ends an extended-protocol request; the server answers it with ReadyForQuery. */
    public static ByteBuf sync(ByteBufAllocator alloc) {
        return empty(alloc, 'S');
    }

    /** 'X' Terminate: empty. */
    public static ByteBuf terminate(ByteBufAllocator alloc) {
        return empty(alloc, 'X');
    }

    /** 'C' Close of a prepared statement: {@code Byte1 'S', String name}. */
    public static ByteBuf closeStatement(ByteBufAllocator alloc, String name) {
        byte[] b = name.getBytes(StandardCharsets.UTF_8);
        return alloc.buffer(7 + b.length).writeByte('C').writeInt(6 + b.length).writeByte('S').writeBytes(b).writeByte(0);
    }

    /**
     * 'd' CopyData: {@code Byte[n] data}. The data is not copied: the result is a composite of a 5-byte
     * header and {@code data} (ownership of {@code data} passes to it).
     */
    public static ByteBuf copyData(ByteBufAllocator alloc, ByteBuf data) {
        ByteBuf header = alloc.buffer(5).writeByte('d').writeInt(4 + data.readableBytes());
        return Unpooled.wrappedBuffer(header, data);
    }

    /** 'c' CopyDone: empty. */
    public static ByteBuf copyDone(ByteBufAllocator alloc) {
        return empty(alloc, 'c');
    }

    /** 'f' CopyFail: {@code String reason} (the server fails the COPY with it). */
    public static ByteBuf copyFail(ByteBufAllocator alloc, String reason) {
        byte[] b = reason.getBytes(StandardCharsets.UTF_8);
        return alloc.buffer(6 + b.length).writeByte('f').writeInt(5 + b.length).writeBytes(b).writeByte(0);
    }

    private static ByteBuf empty(ByteBufAllocator alloc, char type) {
        return alloc.buffer(5).writeByte(type).writeInt(4);
    }
}
