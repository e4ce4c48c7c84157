package dev.pgreshard.proxy.sharded;

import dev.pgreshard.proxy.protocol.FrontendMessage;
import dev.pgreshard.proxy.protocol.PgFrame;

import java.util.ArrayList;
import java.util.List;

/**
 * One routable piece of a client request: a simple Query, or the extended-protocol messages that
 * end with an Execute (Parse? Bind? Describe? Execute), or trailing Parse/Describe without Execute,
 * or a single Close. Units of one request run in order; an error skips the rest, as a Sync would.
 */
final class Unit {
    record Part(FrontendMessage message, PgFrame frame) {
    }

    final List<Part> parts = new ArrayList<>();
    final boolean extended;
    /** Set once planned (a unit may be looked at twice when it ends a group of units for one shard). */
    UnitPlan plan;

    Unit(boolean extended) {
        this.extended = extended;
    }

    static Unit query(FrontendMessage.Query q, PgFrame frame) {
        Unit u = new Unit(false);
        u.parts.add(new Part(q, frame));
        return u;
    }

    /** Splits an extended-protocol batch (everything before a Sync) into units. */
    static List<Unit> split(List<Part> batch) {
        List<Unit> units = new ArrayList<>();
        Unit cur = new Unit(true);
        for (Part p : batch) {
            if (p.message() instanceof FrontendMessage.Close) {
                if (!cur.parts.isEmpty()) {
                    units.add(cur);
                    cur = new Unit(true);
                }
                cur.parts.add(p);
                units.add(cur);
                cur = new Unit(true);
                continue;
            }
            if (p.message() instanceof FrontendMessage.Flush) {
                p.frame().release();
                continue;
            }
            cur.parts.add(p);
            if (p.message() instanceof FrontendMessage.Execute) {
                units.add(cur);
                cur = new Unit(true);
            }
        }
        if (!cur.parts.isEmpty()) {
            units.add(cur);
        }
        return units;
    }

    <T extends FrontendMessage> T find(Class<T> type) {
        for (Part p : parts) {
            if (type.isInstance(p.message())) {
                return type.cast(p.message());
            }
        }
        return null;
    }

    void release() {
        parts.forEach(p -> p.frame().release());
    }
}
