package dev.pgreshard.proxy.sharded;

import dev.pgreshard.core.topology.Cluster;
import dev.pgreshard.proxy.protocol.FrontendMessages;
import dev.pgreshard.proxy.protocol.PgFrame;
import dev.pgreshard.proxy.routing.BindValues;
import dev.pgreshard.proxy.sharded.plan.KeylessInsert;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

import static dev.pgreshard.proxy.protocol.FrontendMessages.UNPOOLED;

/**
 * Draws the keys of a {@link KeylessInsert} on shard 0 and places its rows: the key column's source
 * ({@link KeySources}, read from the catalog when not cached), then {@code nextval} once per row that needs
 * a key, in row order, in one query. Shard 0's sequence is the one source of keys the proxy draws from: after
 * a pgreshard cutover every shard's sequences are spaced (SequenceSpacing), so its values are unique across
 * shards and against values the other shards draw for inserts made on them directly; on a cluster whose
 * sequences were never spaced, drawing from one sequence still keeps the proxy's own keys unique.
 * Sequence values are not transactional, so drawing outside the client's transaction on shard 0 loses
 * nothing one database would keep (a rolled-back INSERT leaves a gap there too).
 */
final class KeyDraw {
    /** The placed rows; or the server's error (retained frame) or the proxy's refusal. */
    record Outcome(KeylessInsert.Placement placement, PgFrame error, String sqlState, String refusal) {
    }

    private KeyDraw() {
    }

    static void run(KeylessInsert insert, Cluster cluster, ShardLink shard0, BindValues params, Consumer<Outcome> done) {
        KeySources.KeySource cached = KeySources.cached(cluster, insert.table(), insert.keyColumn());
        if (cached != null) {
            draw(insert, cluster, shard0, params, cached, done);
            return;
        }
        String catalog = KeySources.catalogSql(insert.table(), insert.keyColumn());
        shard0.send(new TextQuery((rows, error) -> {
            if (error != null) {
                done.accept(new Outcome(null, error, null, null));
                return;
            }
            KeySources.KeySource source = KeySources.read(rows, insert.table(), insert.keyColumn());
            if (!rows.isEmpty()) {
                KeySources.remember(cluster, insert.table(), insert.keyColumn(), source);
            }
            draw(insert, cluster, shard0, params, source, done);
        }), FrontendMessages.query(UNPOOLED, catalog));
    }

    private static void draw(KeylessInsert insert, Cluster cluster, ShardLink shard0, BindValues params,
                             KeySources.KeySource source, Consumer<Outcome> done) {
        if (source.refusal() != null) {
            done.accept(new Outcome(null, null, source.sqlState(), source.refusal()));
            return;
        }
        String identity = insert.identityRefusal(source.always());
        if (identity != null) {
            done.accept(new Outcome(null, null, "428C9", identity));
            return;
        }
        String sql = KeySources.nextValuesSql(source.sequence(), insert.needed());
        shard0.send(new TextQuery((rows, error) -> {
            if (error != null) {
                done.accept(new Outcome(null, error, null, null));
                return;
            }
            List<String> values = new ArrayList<>(rows.size());
            rows.forEach(r -> values.add(r.get(0)));
            KeylessInsert.Placement p = insert.place(cluster.shardFunction(insert.table()).orElseThrow(), params, values,
                    source.always());
            done.accept(p.refusal() != null ? new Outcome(null, null, p.sqlState(), p.refusal()) : new Outcome(p, null, null, null));
        }), FrontendMessages.query(UNPOOLED, sql));
    }
}
