package dev.pgreshard.proxy.sharded;

import dev.pgreshard.proxy.protocol.FrontendMessage;
import dev.pgreshard.proxy.protocol.FrontendMessages;
import dev.pgreshard.proxy.routing.RoutingTable;
import dev.pgreshard.proxy.routing.StatementKind;
import dev.pgreshard.proxy.session.ClientSession;
import io.micrometer.core.instrument.Counter;
import io.netty.buffer.ByteBuf;
import org.slf4j.Logger;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.BiConsumer;

import static dev.pgreshard.proxy.protocol.FrontendMessages.UNPOOLED;

/**
 * Sends the units {@link ShardedHandler} decided on to the shards' links: re-prepares a unit's statement
 * on a shard that lacks it, begins the client's transaction on each shard as it first touches it, picks
 * the merger for the answers ({@link StreamingMerger} for one statement over several shards, else
 * {@link ResponseMerger}), and gathers consecutive extended-protocol units bound for one shard into a
 * group sent under one Sync. It only writes; the session's flush rule puts the bytes on the wire.
 */
final class UnitSender {
    private final ClientSession session;
    private final ShardLinks links;
    private final ShardedStatements statements;
    private final TransactionState tx;
    private final ShardedCopyIn copyIn;
    /** Called with (error, what to run after) when a unit's answer is complete. */
    private final BiConsumer<Boolean, Runnable> unitDone;
    /** Called when the shards accepted a COPY FROM STDIN (the client's CopyData may flow). */
    private final Runnable copyStarted;
    private final Logger log;
    /** pgreshard_proxy_queries_total per shard of the current route. */
    private Counter[] queries = new Counter[0];
    private Group group;

    UnitSender(ClientSession session, ShardLinks links, ShardedStatements statements, TransactionState tx,
               ShardedCopyIn copyIn, BiConsumer<Boolean, Runnable> unitDone, Runnable copyStarted, Logger log) {
        this.session = session;
        this.links = links;
        this.statements = statements;
        this.tx = tx;
        this.copyIn = copyIn;
        this.unitDone = unitDone;
        this.copyStarted = copyStarted;
        this.log = log;
    }

    /** Counts queries per shard of {@code route} from now on. */
    void use(RoutingTable.Route route) {
        queries = new Counter[route.cluster().shardCount()];
        for (int i = 0; i < queries.length; i++) {
            queries[i] = session.proxy().metrics().queries(route.database(), route.cluster().name(), i);
        }
    }

    // ---- groups of extended-protocol units for one shard

    boolean hasGroup() {
        return group != null;
    }

    /** The shard of the group being gathered (only when {@link #hasGroup}). */
    int groupShard() {
        return group.shard;
    }

    /**
     * Consecutive extended-protocol units bound for one shard travel together under one Sync, as the
     * client sent them: one round trip, and one implicit transaction on that shard, like a server would.
     */
    void addToGroup(Unit unit, int shard) {
        if (group == null) {
            group = new Group(shard);
        }
        ShardLink l = links.get(shard);
        FrontendMessage.Bind bind = unit.find(FrontendMessage.Bind.class);
        FrontendMessage.Parse parse = unit.find(FrontendMessage.Parse.class);
        if (bind != null) {
            statements.bindPortal(bind.portal(), new int[] {shard});
            if (parse == null || !parse.statement().equals(bind.statement())) {
                statements.ensurePrepared(l, bind.statement());
            }
        }
        beginTransactionOn(l);
        unit.parts.forEach(p -> group.frames.add(p.frame().frame().retainedDuplicate()));
        if (parse != null) {
            statements.preparedOn(l, parse.statement());
        }
        unit.release();
    }

    /** Sends the gathered group with its Sync; its answer completes as one unit. */
    void dispatchGroup() {
        Group g = group;
        group = null;
        ShardLink l = links.get(g.shard);
        ResponseMerger merger = new ResponseMerger(new int[] {g.shard}, false, session, copyStarted,
                error -> unitDone.accept(error, null));
        g.frames.add(FrontendMessages.sync(UNPOOLED));
        queries[g.shard].increment();
        l.send(merger, g.frames.toArray(ByteBuf[]::new));
    }

    /** Drops a group not sent (the session is closing). */
    void releaseGroup() {
        if (group != null) {
            group.frames.forEach(ByteBuf::release);
            group = null;
        }
    }

    /** Units gathered for one shard, not sent yet. */
    private static final class Group {
        final int shard;
        final List<ByteBuf> frames = new ArrayList<>();

        Group(int shard) {
            this.shard = shard;
        }
    }

    // ---- single units

    boolean send(Unit unit, int[] targets, boolean inTransaction, boolean sumCounts, Runnable after) {
        return send(unit, targets, inTransaction, sumCounts, after, null);
    }

    /**
     * Sends the unit to {@code targets} (rewritten SQL per shard when given) and merges the answers;
     * returns true (the request continues when they are complete).
     */
    boolean send(Unit unit, int[] targets, boolean inTransaction, boolean sumCounts, Runnable after,
                 Map<Integer, String> rewritten) {
        ResponseSink merger;
        if (targets.length > 1 && !copyIn.active() && oneStatement(unit)) {
            merger = new StreamingMerger(targets, sumCounts, session, error -> unitDone.accept(error, after));
        } else {
            ResponseMerger m = new ResponseMerger(targets, sumCounts, session, copyStarted,
                    error -> unitDone.accept(error, after));
            if (copyIn.active()) {
                m.onCopyAbort(() -> copyIn.abort("COPY was refused by another shard"));
            }
            merger = m;
        }
        FrontendMessage.Bind bind = unit.find(FrontendMessage.Bind.class);
        FrontendMessage.Parse parse = unit.find(FrontendMessage.Parse.class);
        if (bind != null) {
            statements.bindPortal(bind.portal(), targets);
        }
        for (int shard : targets) {
            ShardLink l = links.get(shard);
            if (bind != null && (parse == null || !parse.statement().equals(bind.statement()))) {
                statements.ensurePrepared(l, bind.statement());
            }
            if (inTransaction) {
                beginTransactionOn(l);
            }
            List<ByteBuf> frames = new ArrayList<>();
            if (rewritten != null) {
                frames.add(FrontendMessages.query(UNPOOLED, rewritten.get(shard)));
            } else {
                unit.parts.forEach(p -> frames.add(p.frame().frame().retainedDuplicate()));
                if (unit.extended) {
                    frames.add(FrontendMessages.sync(UNPOOLED));
                }
            }
            queries[shard].increment();
            l.send(merger, frames.toArray(ByteBuf[]::new));
            if (parse != null) {
                statements.preparedOn(l, parse.statement());
            }
        }
        unit.release();
        return true;
    }

    /** The client's open transaction is begun on a shard lazily, as it first touches it. */
    private void beginTransactionOn(ShardLink l) {
        if (tx.open && !l.inTransaction) {
            l.send(ResponseSink.internal("BEGIN", log), FrontendMessages.query(UNPOOLED, tx.beginSql));
            l.inTransaction = true;
        }
    }

    /** The unit produces one statement's answer (one Execute, or a Query of one statement): it can stream. */
    private static boolean oneStatement(Unit unit) {
        if (unit.extended) {
            return unit.find(FrontendMessage.Execute.class) != null;
        }
        if (unit.plan == null || unit.plan.parsed() == null) {
            return false;
        }
        return unit.plan.parsed().statements().size() == 1 || unit.plan.parsed().kind() == StatementKind.COPY_OUT;
    }
}
