package dev.pgreshard.proxy.sharded;

import dev.pgreshard.core.sharding.ShardFunction;
import dev.pgreshard.proxy.routing.CopyCommand;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;

import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Splits the rows of {@code COPY ... FROM STDIN} (text or CSV format) by shard. CopyData messages carry
 * arbitrary chunks, so bytes are buffered until a row is complete (a newline outside CSV quotes);
 * each row is read only as far as its shard-key field. Rows of omnisharded tables go to every shard.
 */
final class CopyRowSplitter {
    private static final int FLUSH_AT = 64 * 1024;

    private final CopyCommand copy;
    private final int keyField; // -1: every row to every shard
    private final ShardFunction function;
    private final int[] shards;
    private final ByteBuf pending = Unpooled.buffer();
    private final Map<Integer, ByteBuf> out = new LinkedHashMap<>();
    private boolean headerSeen;

    CopyRowSplitter(CopyCommand copy, int keyField, ShardFunction function, int[] shards) {
        this.copy = copy;
        this.keyField = keyField;
        this.function = function;
        this.shards = shards;
        for (int s : shards) {
            out.put(s, Unpooled.buffer());
        }
    }

    /** Consumes a chunk of COPY data; returns per-shard data ready to send (possibly empty). */
    Map<Integer, ByteBuf> accept(ByteBuf chunk) {
        pending.writeBytes(chunk);
        boolean quoted = false;
        int rowStart = pending.readerIndex();
        for (int i = pending.readerIndex(); i < pending.writerIndex(); i++) {
            byte b = pending.getByte(i);
            if (copy.csv() && b == '"') {
                quoted = !quoted;
            } else if (b == '\n' && !quoted) {
                route(pending.slice(rowStart, i + 1 - rowStart));
                rowStart = i + 1;
            }
        }
        pending.readerIndex(rowStart);
        pending.discardReadBytes();
        return drain(false);
    }

    /** At CopyDone: the last row (without a final newline) and everything buffered. */
    Map<Integer, ByteBuf> finish() {
        if (pending.isReadable()) {
            route(pending.slice());
            pending.clear();
        }
        return drain(true);
    }

    void release() {
        pending.release();
        out.values().forEach(ByteBuf::release);
    }

    private void route(ByteBuf row) {
        if (keyField < 0 || (copy.header() && !headerSeen)) {
            headerSeen = true;
            out.values().forEach(b -> b.writeBytes(row, row.readerIndex(), row.readableBytes()));
            return;
        }
        String line = row.toString(StandardCharsets.UTF_8);
        if (line.equals("\\.\n") || line.equals("\\.")) {
            return; // end-of-data marker: CopyDone ends the data anyway
        }
        String key = field(line);
        int shard = key == null ? 0 : function.shardOfText(key);
        ByteBuf target = out.get(shard);
        if (target == null) {
            throw new IllegalStateException("row routed to shard " + shard + " outside the COPY's targets");
        }
        target.writeBytes(row, row.readerIndex(), row.readableBytes());
    }

    /** The shard-key field of a row, or null for NULL. */
    private String field(String line) {
        String body = line.endsWith("\r\n") ? line.substring(0, line.length() - 2)
                : line.endsWith("\n") ? line.substring(0, line.length() - 1) : line;
        return copy.csv() ? csvField(body) : textField(body);
    }

    private String textField(String body) {
        int index = 0;
        int start = 0;
        for (int i = 0; i <= body.length(); i++) {
            if (i == body.length() || body.charAt(i) == copy.delimiter()) {
                if (index == keyField) {
                    String raw = body.substring(start, i);
                    return raw.equals("\\N") ? null : unescape(raw);
                }
                index++;
                start = i + 1;
            } else if (body.charAt(i) == '\\') {
                i++;
            }
        }
        throw new IllegalArgumentException("a COPY row has fewer than " + (keyField + 1) + " fields");
    }

    private String csvField(String body) {
        int index = 0;
        StringBuilder cur = new StringBuilder();
        boolean quoted = false;
        boolean wasQuoted = false;
        for (int i = 0; i <= body.length(); i++) {
            char c = i < body.length() ? body.charAt(i) : copy.delimiter();
            boolean end = i == body.length();
            if (quoted && !end) {
                if (c == '"') {
                    if (i + 1 < body.length() && body.charAt(i + 1) == '"') {
                        cur.append('"');
                        i++;
                    } else {
                        quoted = false;
                    }
                } else {
                    cur.append(c);
                }
            } else if (c == '"' && !end) {
                quoted = true;
                wasQuoted = true;
            } else if (c == copy.delimiter() || end) {
                if (index == keyField) {
                    return cur.length() == 0 && !wasQuoted ? null : cur.toString();
                }
                index++;
                cur.setLength(0);
                wasQuoted = false;
            } else {
                cur.append(c);
            }
        }
        throw new IllegalArgumentException("a COPY row has fewer than " + (keyField + 1) + " fields");
    }

    private static String unescape(String raw) {
        if (raw.indexOf('\\') < 0) {
            return raw;
        }
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < raw.length(); i++) {
            char c = raw.charAt(i);
            if (c == '\\' && i + 1 < raw.length()) {
                char n = raw.charAt(++i);
                sb.append(switch (n) {
                    case 't' -> '\t';
                    case 'n' -> '\n';
                    case 'r' -> '\r';
                    default -> n;
                });
            } else {
                sb.append(c);
            }
        }
        return sb.toString();
    }

    private Map<Integer, ByteBuf> drain(boolean all) {
        Map<Integer, ByteBuf> ready = new LinkedHashMap<>();
        for (Map.Entry<Integer, ByteBuf> e : out.entrySet()) {
            ByteBuf b = e.getValue();
            if (b.isReadable() && (all || b.readableBytes() >= FLUSH_AT)) {
                ready.put(e.getKey(), b.retainedSlice());
                b.release();
                e.setValue(Unpooled.buffer());
            }
        }
        return ready;
    }
}
