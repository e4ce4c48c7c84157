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
        byte first = query.body().getByte(0);
        if (first != 's' && first != 'S' && first != 'r' && first != 'R' && first != 'd' && first != 'D') {
            return;
        }
        record(Wire.readCString(query.body()));
    }

    /** A Parse ({@code String name, String sql, ...}): drivers in extended mode send SET this way. */
    void onParse(PgFrame parse) {
        io.netty.buffer.ByteBuf body = parse.body();
        int nameEnd = body.indexOf(body.readerIndex(), body.writerIndex(), (byte) 0);
        if (nameEnd < 0 || nameEnd + 1 >= body.writerIndex()) {
            return;
        }
        byte first = body.getByte(nameEnd + 1);
        if (first != 's' && first != 'S' && first != 'r' && first != 'R' && first != 'd' && first != 'D') {
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
