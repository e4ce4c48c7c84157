package dev.pgreshard.proxy.session;

import dev.pgreshard.proxy.protocol.PgFrame;
import dev.pgreshard.proxy.protocol.Wire;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The session settings a client changed with simple-protocol {@code SET} / {@code RESET} / {@code DISCARD},
 * kept to be replayed on servers the client is moved to (a cutover), so its session looks unchanged.
 * Only Query messages starting with those words are decoded: the pass-through hot path stays cheap.
 */
final class SessionSettings {
    private final List<String> statements = new ArrayList<>();

    void onQuery(PgFrame query) {
        io.netty.buffer.ByteBuf body = query.body();
        if (mayChangeSettings(body, body.readerIndex())) {
            record(Wire.readCString(body));
        }
    }

    /** Cheap pre-check on the first three bytes: "set", "res"(et) or "dis"(card), in any case. */
    private static boolean mayChangeSettings(io.netty.buffer.ByteBuf b, int at) {
        if (b.writerIndex() - at < 3) {
            return false;
        }
        int c0 = b.getByte(at) | 0x20;
        int c1 = b.getByte(at + 1) | 0x20;
        int c2 = b.getByte(at + 2) | 0x20;
        return (c0 == 's' && c1 == 'e' && c2 == 't') || (c0 == 'r' && c1 == 'e' && c2 == 's')
                || (c0 == 'd' && c1 == 'i' && c2 == 's');
    }

    /** A Parse ({@code String name, String sql, ...}): drivers in extended mode send SET this way. */
    void onParse(PgFrame parse) {
        io.netty.buffer.ByteBuf body = parse.body();
        int nameEnd = body.indexOf(body.readerIndex(), body.writerIndex(), (byte) 0);
        if (nameEnd < 0 || nameEnd + 1 >= body.writerIndex()) {
            return;
        }
        if (!mayChangeSettings(body, nameEnd + 1)) {
            return;
        }
        body.readerIndex(nameEnd + 1);
        record(Wire.readCString(body));
    }

    void record(String sql) {
        String lower = sql.strip().toLowerCase(Locale.ROOT);
        if (lower.startsWith("reset all") || lower.startsWith("discard all")) {
            statements.clear();
        } else if ((lower.startsWith("set ") && !lower.startsWith("set local ") && !lower.startsWith("set transaction"))
                || lower.startsWith("reset ")) {
            statements.add(sql);
        }
    }

    List<String> all() {
        return List.copyOf(statements);
    }

    void addAll(List<String> adopted) {
        statements.addAll(adopted);
    }
}
