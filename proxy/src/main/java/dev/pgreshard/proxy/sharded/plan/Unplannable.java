package dev.pgreshard.proxy.sharded.plan;

/** The statement cannot be answered exactly across shards; the message says why and what to change. */
final class Unplannable extends Exception {
    Unplannable(String message) {
        super(message, null, false, false);
    }
}
