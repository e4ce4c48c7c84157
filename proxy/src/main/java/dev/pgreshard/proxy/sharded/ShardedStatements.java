package dev.pgreshard.proxy.sharded;

import dev.pgreshard.proxy.protocol.FrontendMessage;
import dev.pgreshard.proxy.protocol.FrontendMessages;
import dev.pgreshard.proxy.protocol.PgFrame;
import org.slf4j.Logger;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static dev.pgreshard.proxy.protocol.FrontendMessages.UNPOOLED;

/**
 * The prepared statements and portals of a client on a sharded database. A statement lives on the
 * backends it was sent to; {@link #ensurePrepared} re-sends its Parse to any other backend before a
 * Bind uses it there (each backend remembers which Parse frame it prepared a name from, so a client's
 * re-Parse of a name after Close is noticed too).
 */
final class ShardedStatements {
    record Statement(String sql, PgFrame parse) {
    }

    private final Map<String, Statement> statements = new HashMap<>();
    private final Map<String, int[]> portals = new HashMap<>();
    private final Logger log;

    ShardedStatements(Logger log) {
        this.log = log;
    }

    /** Records a Parse of the client (the frame is copied). */
    void onParse(FrontendMessage.Parse parse, PgFrame frame) {
        put(parse.statement(), new Statement(parse.sql(), frame.copy()));
    }

    Statement get(String name) {
        return statements.get(name);
    }

    void bindPortal(String portal, int[] shards) {
        portals.put(portal, shards);
    }

    int[] portal(String portal) {
        return portals.get(portal);
    }

    void clearPortals() {
        portals.clear();
    }

    /** Before a Bind of {@code name} on {@code l}: prepares it there if that backend has not got this version. */
    void ensurePrepared(ShardLink l, String name) {
        Statement st = statements.get(name);
        if (st == null || l.prepared.get(name) == st.parse()) {
            return;
        }
        if (!name.isEmpty() && l.prepared.containsKey(name)) {
            l.send(ResponseSink.internal("closing " + name, log), FrontendMessages.closeStatement(UNPOOLED, name), FrontendMessages.sync(UNPOOLED));
        }
        l.send(ResponseSink.internal("re-preparing " + name, log), st.parse().frame().retainedDuplicate(), FrontendMessages.sync(UNPOOLED));
        l.prepared.put(name, st.parse());
    }

    /** Marks {@code name} as prepared on {@code l} from the client's current Parse. */
    void preparedOn(ShardLink l, String name) {
        Statement st = statements.get(name);
        if (st != null) {
            l.prepared.put(name, st.parse());
        }
    }

    /** A client Close: forgets the portal, or the statement on every backend that has it. */
    void close(FrontendMessage.Close close, ShardLink[] links) {
        if (close.kind() == 'P') {
            portals.remove(close.name());
            return;
        }
        Statement st = statements.remove(close.name());
        for (ShardLink l : links) {
            if (l != null && l.prepared.remove(close.name()) != null) {
                l.send(ResponseSink.internal("closing " + close.name(), log), FrontendMessages.closeStatement(UNPOOLED, close.name()),
                        FrontendMessages.sync(UNPOOLED));
            }
        }
        if (st != null) {
            st.parse().release();
        }
    }

    /** The named statements, name → the client's Parse frame (a snapshot; the frames stay owned here). */
    Map<String, PgFrame> byName() {
        Map<String, PgFrame> out = new java.util.LinkedHashMap<>();
        statements.forEach((name, st) -> {
            if (!name.isEmpty()) {
                out.put(name, st.parse());
            }
        });
        return out;
    }

    /** Hands the named statements' Parse frames over (ownership passes); the unnamed one is dropped. */
    List<PgFrame> takeAll() {
        List<PgFrame> out = new ArrayList<>();
        statements.forEach((name, st) -> {
            if (!name.isEmpty()) {
                out.add(st.parse());
            } else {
                st.parse().release();
            }
        });
        statements.clear();
        return out;
    }

    /** Takes over Parse frames of another handler (ownership passes). */
    void adopt(List<PgFrame> parses) {
        for (PgFrame frame : parses) {
            FrontendMessage.Parse p = (FrontendMessage.Parse) FrontendMessage.decode(frame);
            put(p.statement(), new Statement(p.sql(), frame));
        }
    }

    void releaseAll() {
        statements.values().forEach(s -> s.parse().release());
        statements.clear();
        portals.clear();
    }

    private void put(String name, Statement st) {
        Statement old = statements.put(name, st);
        if (old != null) {
            old.parse().release();
        }
    }
}
