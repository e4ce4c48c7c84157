package dev.pgreshard.proxy.passthrough;

import dev.pgreshard.proxy.protocol.PgFrame;
import dev.pgreshard.proxy.protocol.Wire;
import io.netty.buffer.ByteBuf;

import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The client's named prepared statements, as the Parse messages that created them (copied, so they
 * outlive the client's buffers). A backend the client is moved to gets them re-sent before anything
 * else, so statements prepared before a cutover still exist after it.
 */
final class PreparedStatements {
    private final Map<String, PgFrame> parses = new LinkedHashMap<>();

    /** Records a 'P' frame if it names a statement (unnamed statements live only until the next Parse). */
    void onParse(PgFrame parse) {
        String name = Wire.readCString(parse.body());
        if (!name.isEmpty()) {
            PgFrame old = parses.put(name, parse.copy());
            if (old != null) {
                old.release();
            }
        }
    }

    /** Adopts an already copied Parse frame (ownership passes). */
    void add(PgFrame parse) {
        String name = Wire.readCString(parse.body());
        PgFrame old = parses.put(name, parse);
        if (old != null) {
            old.release();
        }
    }

    /** Forgets every statement without releasing (ownership went elsewhere). */
    void forget() {
        parses.clear();
    }

    /** Forgets a statement on 'C' (Close) of kind 'S'. */
    void onClose(PgFrame close) {
        ByteBuf body = close.body();
        if (body.getByte(0) == 'S') {
            body.skipBytes(1);
            PgFrame old = parses.remove(Wire.readCString(body));
            if (old != null) {
                old.release();
            }
        }
    }

    PgFrame get(String name) {
        return parses.get(name);
    }

    /** Name → Parse frame, in the order the client prepared them (a view: do not keep it). */
    Map<String, PgFrame> byName() {
        return java.util.Collections.unmodifiableMap(parses);
    }

    Collection<PgFrame> all() {
        return parses.values();
    }

    int size() {
        return parses.size();
    }

    void clear() {
        parses.values().forEach(PgFrame::release);
        parses.clear();
    }
}
