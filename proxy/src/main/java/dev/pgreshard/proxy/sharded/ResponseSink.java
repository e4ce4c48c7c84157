package dev.pgreshard.proxy.sharded;

import dev.pgreshard.proxy.protocol.PgFrame;

/**
 * Receives one request's answer from one shard: every message up to and including its ReadyForQuery
 * (ownership of each frame passes to the sink).
 */
interface ResponseSink {
    void onMessage(int shard, PgFrame frame);

    /** A sink that drops the answer of a request the proxy sent on its own (re-prepare, BEGIN, SET replay). */
    static ResponseSink internal(String what, org.slf4j.Logger log) {
        return (shard, frame) -> {
            if (frame.typeChar() == 'E') {
                log.warn("{} on shard {} failed: {}", what, shard,
                        dev.pgreshard.proxy.protocol.ServerMessages.describeError(frame));
            }
            frame.release();
        };
    }
}
