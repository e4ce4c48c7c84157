package dev.pgreshard.proxy.sharded;

import dev.pgreshard.proxy.backend.BackendConnection;
import dev.pgreshard.proxy.protocol.PgFrame;
import io.netty.buffer.ByteBuf;

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
}
