package dev.pgreshard.proxy.session;

import dev.pgreshard.proxy.protocol.PgFrame;
import dev.pgreshard.proxy.protocol.Wire;

import java.util.List;
import java.util.Locale;

/**
 * The session settings a client changed with simple-protocol {@code SET} / {@code RESET} / {@code DISCARD},
 * kept to be replayed on servers the client is moved to (a cutover), so its session looks unchanged.
 * Only Query messages starting with those words are decoded: the pass-through hot path stays cheap.
 */
public final class SessionSettings {
    private static final java.util.regex.Pattern SET =
            java.util.regex.Pattern.compile("set\\s+(?:session\\s+(?!authorization))?\"?([a-z_][a-z0-9_.$]*)");
    private static final java.util.regex.Pattern RESET = java.util.regex.Pattern.compile("reset\\s+\"?([a-z_][a-z0-9_.$]*)");

    /** Setting name → the latest statement that set it (a client re-setting a value keeps one entry). */
    private final java.util.LinkedHashMap<String, String> statements = new java.util.LinkedHashMap<>();

    public void onQuery(PgFrame query) {
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
    public void onParse(PgFrame parse) {
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

    public void record(String sql) {
        String lower = sql.strip().toLowerCase(Locale.ROOT);
        if (lower.startsWith("reset all") || lower.startsWith("discard all")) {
            statements.clear();
            return;
        }
        java.util.regex.Matcher set = SET.matcher(lower);
        if (set.lookingAt()) {
            String name = set.group(1);
            if (!name.equals("local") && !name.equals("transaction") && !name.equals("constraints")) {
                statements.remove(name);
                statements.put(name, sql); // latest last, so replay order follows the client's
            }
            return;
        }
        java.util.regex.Matcher reset = RESET.matcher(lower);
        if (reset.lookingAt()) {
            statements.remove(reset.group(1)); // a new server starts from the defaults anyway
        }
    }

    public List<String> all() {
        return List.copyOf(statements.values());
    }

    public void addAll(List<String> adopted) {
        adopted.forEach(this::record);
    }
}
