package dev.pgreshard.proxy.session;

import dev.pgreshard.proxy.protocol.PgFrame;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;

import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;

/**
 * A sharded session's connection to one shard: the backend, the answers it still owes (one sink per
 * request, in sending order), which of the client's statements it has prepared, and whether the
 * client's transaction has been begun on it.
 */
final class ShardLink {
    final int shard;
    final BackendConnection backend;
    final ArrayDeque<ResponseSink> waiting = new ArrayDeque<>();
    /** Statement name → the client's Parse frame that this backend prepared it from. */
    final Map<String, PgFrame> prepared = new HashMap<>();
    boolean inTransaction;

    ShardLink(int shard, BackendConnection backend) {
        this.shard = shard;
        this.backend = backend;
    }

    /** Routes a backend message to the sink of the oldest open request. */
    void onMessage(PgFrame frame) {
        ResponseSink sink = frame.typeChar() == 'Z' ? waiting.poll() : waiting.peek();
        if (sink == null) {
            frame.release(); // e.g. a NoticeResponse or ParameterStatus between requests
            return;
        }
        sink.onMessage(shard, frame);
    }

    /** Sends a request (its messages, ending with Query or Sync) whose answer goes to {@code sink}. */
    void send(ResponseSink sink, ByteBuf... messages) {
        waiting.add(sink);
        for (ByteBuf m : messages) {
            backend.write(m);
        }
    }

    boolean busy() {
        return !waiting.isEmpty();
    }

    /** 'Q' Query: {@code String sql}. */
    static ByteBuf query(String sql) {
        byte[] b = sql.getBytes(StandardCharsets.UTF_8);
        ByteBuf q = Unpooled.buffer(6 + b.length);
        q.writeByte('Q');
        q.writeInt(5 + b.length);
        q.writeBytes(b);
        q.writeByte(0);
        return q;
    }

    /** 'S' Sync. */
    static ByteBuf sync() {
        return Unpooled.buffer(5).writeByte('S').writeInt(4);
    }

    /** 'd' CopyData with {@code data} (ownership passes). */
    static ByteBuf copyData(ByteBuf data) {
        ByteBuf header = Unpooled.buffer(5).writeByte('d').writeInt(4 + data.readableBytes());
        return Unpooled.wrappedBuffer(header, data);
    }

    /** 'c' CopyDone. */
    static ByteBuf copyDone() {
        return Unpooled.buffer(5).writeByte('c').writeInt(4);
    }

    /** 'f' CopyFail: {@code String reason}. */
    static ByteBuf copyFail(String reason) {
        byte[] b = reason.getBytes(StandardCharsets.UTF_8);
        return Unpooled.buffer(6 + b.length).writeByte('f').writeInt(5 + b.length).writeBytes(b).writeByte(0);
    }

    /** 'C' Close of a statement: {@code Byte1 'S', String name}. */
    static ByteBuf closeStatement(String name) {
        byte[] b = name.getBytes(StandardCharsets.UTF_8);
        return Unpooled.buffer(7 + b.length).writeByte('C').writeInt(6 + b.length).writeByte('S').writeBytes(b).writeByte(0);
    }
}
