package dev.pgreshard.proxy.sharded;

import dev.pgreshard.proxy.protocol.BackendMessages;
import dev.pgreshard.proxy.protocol.PgFrame;
import dev.pgreshard.proxy.protocol.SqlState;
import dev.pgreshard.proxy.sharded.merge.KWayMerge;
import dev.pgreshard.proxy.sharded.merge.PgTypes;
import dev.pgreshard.proxy.sharded.merge.RowMessages;
import dev.pgreshard.proxy.sharded.merge.SortValues;
import dev.pgreshard.proxy.sharded.plan.ReadPlan;
import dev.pgreshard.proxy.sharded.plan.ReadPlanner;
import dev.pgreshard.proxy.session.ClientSession;

import java.util.Comparator;
import java.util.List;
import java.util.function.IntFunction;

/**
 * A STREAM read: the shards' sorted rows merged as they arrive ({@link KWayMerge}), OFFSET and LIMIT
 * applied, the sort-key columns cut off, each row written to the client as soon as its place is
 * known. Memory stays bounded: a shard that is {@link #PAUSE_AT} rows ahead of the merge stops being
 * read until the merge has caught up (the client's own slowness pauses every shard, see ShardLinks).
 */
final class StreamedRows {
    static final int PAUSE_AT = 2048;
    static final int RESUME_AT = 256;

    record Row(PgFrame frame, byte[][] keys) {
    }

    private final ReadPlan plan;
    private final int[] shards;
    private final MergedReadRequest request;
    private final ClientSession client;
    private final IntFunction<ShardLink> links;
    private final Runnable preamble;
    private final boolean[] paused;
    /** Shards whose statement ended (CommandComplete), also before the merge was set up. */
    private final boolean[] ended;
    private KWayMerge<Row> merge;
    private int width = -1;
    private long skipped;
    private long emitted;
    private boolean aborted;

    StreamedRows(ReadPlan plan, int[] shards, MergedReadRequest request, ClientSession client, IntFunction<ShardLink> links,
                 Runnable preamble) {
        this.plan = plan;
        this.shards = shards;
        this.request = request;
        this.client = client;
        this.links = links;
        this.preamble = preamble;
        this.paused = new boolean[shards.length];
        this.ended = new boolean[shards.length];
    }

    long emitted() {
        return emitted;
    }

    /** Returns false when the read had to be refused (an error was written). */
    boolean onMessage(int shard, PgFrame frame) {
        int slot = slot(shard);
        switch (frame.typeChar()) {
            case 'T' -> {
                if (width < 0) {
                    width = RowMessages.shape(frame.frame()).width();
                    preamble.run();
                    if (request.describePortal()) {
                        client.write(BackendMessages.rowDescriptionPrefix(client.channel().alloc(), frame.frame(), width - plan.trailing()));
                    }
                    shapeTypes = RowMessages.shape(frame.frame());
                }
                frame.release();
            }
            case 'D' -> {
                if (merge == null && !startMerge(frame)) {
                    frame.release();
                    return false;
                }
                byte[][] keys = RowMessages.tail(frame.frame(), width - plan.trailing());
                merge.add(slot, new Row(frame, keys));
                if (merge.queued(slot) >= PAUSE_AT) { // again each time: the client's writability may have resumed it
                    paused[slot] = true;
                    links.apply(shard).backend.setAutoRead(false);
                }
                return drain();
            }
            case 'C' -> {
                frame.release();
                ended[slot] = true;
                if (merge != null) {
                    merge.finish(slot);
                    return drain();
                }
            }
            default -> frame.release();
        }
        return true;
    }

    private RowMessages.Shape shapeTypes;

    private int slot(int shard) {
        for (int i = 0; i < shards.length; i++) {
            if (shards[i] == shard) {
                return i;
            }
        }
        throw new IllegalStateException("shard " + shard);
    }

    /** Builds the row order from the first row (whose helper columns report the keys' collations). */
    private boolean startMerge(PgFrame first) {
        int base = width - plan.trailing();
        byte[][] tail = RowMessages.tail(first.frame(), base);
        ReadPlan.StreamSpec spec = plan.stream();
        String databaseCollation = RowMessages.text(tail[spec.databaseCollation()]);
        Comparator<Row> order = (a, b) -> 0;
        List<ReadPlan.SortKey> keys = spec.keys();
        for (ReadPlan.SortKey k : keys) {
            int col = base + k.column();
            int type = shapeTypes.types()[col];
            String collation = RowMessages.text(tail[k.collation()]);
            Comparator<byte[]> values = SortValues.comparator(type, shapeTypes.formats()[col],
                    SortValues.byteOrder(collation, databaseCollation));
            if (values == null) {
                String typeName = PgTypes.name(type) == null ? "oid " + type : PgTypes.name(type);
                String what = SortValues.isText(type) ? "text in collation " + collation
                        + (collation != null && collation.contains("default") ? " (" + databaseCollation + ")" : "")
                        : "values of type " + typeName;
                client.writeError(SqlState.FEATURE_NOT_SUPPORTED, "ORDER BY " + k.text() + ": the proxy cannot merge "
                        + what + " from several shards in exactly PostgreSQL's order; add a LIMIT (LIMIT + OFFSET at most "
                        + ReadPlanner.FINAL_ROWS + ") so PostgreSQL orders the shards' "
                        + "first rows itself, filter on the shard key, or order by a column in the \"C\" collation");
                aborted = true;
                return false;
            }
            // a row's helper columns hold each distinct key once, so the key's own column, not its place in ORDER BY
            // (ORDER BY qty, qty DESC, id lists qty twice but returns it once)
            int i = k.column();
            Comparator<Row> one = (a, b) -> {
                byte[] x = a.keys()[i];
                byte[] y = b.keys()[i];
                if (x == null || y == null) {
                    if (x == y) {
                        return 0;
                    }
                    return (x == null) == k.nullsFirst() ? -1 : 1;
                }
                int c = values.compare(x, y);
                return k.ascending() ? c : -c;
            };
            order = order.thenComparing(one);
        }
        merge = new KWayMerge<>(shards.length, order);
        for (int i = 0; i < shards.length; i++) {
            if (ended[i]) {
                merge.finish(i);
            }
        }
        return true;
    }

    private boolean drain() {
        ReadPlan.StreamSpec spec = plan.stream();
        int keep = width - plan.trailing();
        try {
            Row r;
            while ((r = merge.poll()) != null) {
                if (skipped < spec.offset()) {
                    skipped++;
                    r.frame().release();
                } else if (spec.limit() >= 0 && emitted >= spec.limit()) {
                    r.frame().release();
                } else {
                    preamble.run();
                    client.write(BackendMessages.dataRowPrefix(client.channel().alloc(), r.frame().frame(), keep));
                    r.frame().release();
                    emitted++;
                }
            }
        } catch (RuntimeException e) {
            client.writeError(SqlState.FEATURE_NOT_SUPPORTED, "the proxy could not read a sort key of this ordered read "
                    + "across shards (" + e.getMessage() + "); add a LIMIT of at most " + ReadPlanner.FINAL_ROWS
                    + " rows or filter on the shard key");
            abort();
            return false;
        }
        for (int i = 0; i < shards.length; i++) {
            if (paused[i] && merge.queued(i) <= RESUME_AT && client.channel().isWritable()) {
                paused[i] = false;
                links.apply(shards[i]).backend.setAutoRead(true);
            }
        }
        return true;
    }

    /** All shards ended their statement. */
    void finish() {
        if (merge != null && !aborted) {
            for (int i = 0; i < shards.length; i++) {
                merge.finish(i);
            }
            drain();
        }
    }

    void abort() {
        aborted = true;
        release();
    }

    /** Releases held rows and resumes reading every shard. */
    void release() {
        if (merge != null) {
            for (int i = 0; i < shards.length; i++) {
                merge.finish(i);
            }
            Row r;
            KWayMerge<Row> m = merge;
            merge = new KWayMerge<>(shards.length, (a, b) -> 0);
            try {
                while ((r = m.poll()) != null) {
                    r.frame().release();
                }
            } catch (RuntimeException e) {
                // comparing failed: rows are dropped with the merge
            }
        }
        for (int i = 0; i < shards.length; i++) {
            if (paused[i]) {
                paused[i] = false;
                links.apply(shards[i]).backend.setAutoRead(true);
            }
        }
    }
}
