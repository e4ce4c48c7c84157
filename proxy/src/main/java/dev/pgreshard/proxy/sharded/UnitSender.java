package dev.pgreshard.proxy.sharded;

import dev.pgreshard.proxy.protocol.FrontendMessage;
import dev.pgreshard.proxy.protocol.FrontendMessages;
import dev.pgreshard.proxy.routing.RoutingTable;
import dev.pgreshard.proxy.routing.StatementKind;
import dev.pgreshard.proxy.sharded.plan.KeylessInsert;
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

    /** A read whose shards' answers must be merged ({@link MergedRead}); the client's Parse stays recorded for later Binds. */
    boolean sendMerged(Unit unit, UnitPlan plan, int[] targets) {
        MergedReadRequest request = MergedReadRequest.of(unit, plan.sql(), statements);
        for (int shard : targets) {
            beginTransactionOn(links.get(shard));
            queries[shard].increment();
        }
        MergedRead read = new MergedRead(plan.readPlan(), targets, request, session, links::get,
                error -> unitDone.accept(error, null));
        unit.release();
        read.start();
        return true;
    }

    /**
     * An INSERT whose rows the proxy placed ({@link KeylessInsert}): each shard gets its own statement with
     * the client's parameters (extended protocol: unnamed Parse/Bind, Describe of the portal, Execute; the
     * first shard first describes the client's statement when the client asked), answered by
     * {@link SplitInsertAnswer}. The backends' unnamed statement is then no longer the client's: forgotten,
     * so a later Bind of it re-prepares.
     */
    boolean sendSplitInsert(Unit unit, KeylessInsert.Placement placement, MergedReadRequest request, boolean returning) {
        int[] targets = placement.shards();
        boolean rowDescription = returning && (request.simple() || request.describePortal());
        boolean describeOnShard0 = request.describeStatement() || (rowDescription && targets[0] != 0);
        SplitInsertAnswer answer = new SplitInsertAnswer(targets, describeOnShard0, placement.rowsByShard(),
                placement.rowCount(), request, session, error -> unitDone.accept(error, null));
        if (describeOnShard0 && targets[0] != 0) {
            links.get(0).send(answer, describe(request), FrontendMessages.describe(UNPOOLED, 'S'), FrontendMessages.sync(UNPOOLED));
            links.get(0).prepared.remove("");
        }
        for (int shard : targets) {
            ShardLink l = links.get(shard);
            beginTransactionOn(l);
            String sql = placement.sqlByShard().get(shard);
            List<ByteBuf> frames = new ArrayList<>();
            if (shard == 0 && describeOnShard0) {
                frames.add(describe(request));
                frames.add(FrontendMessages.describe(UNPOOLED, 'S'));
            }
            if (request.simple()) { // (no statement description: describeOnShard0 means shard 0 is no target here)
                frames.add(FrontendMessages.query(UNPOOLED, sql));
            } else {
                frames.add(FrontendMessages.parse(UNPOOLED, sql, request.shardParamTypes(sql)));
                frames.add(FrontendMessages.bind(UNPOOLED, request.paramFormats(), request.params(), request.resultFormats()));
                frames.add(FrontendMessages.describe(UNPOOLED, 'P'));
                frames.add(FrontendMessages.executeAll(UNPOOLED));
                frames.add(FrontendMessages.sync(UNPOOLED));
            }
            l.prepared.remove("");
            queries[shard].increment();
            l.send(answer, frames.toArray(ByteBuf[]::new));
        }
        unit.release();
        return true;
    }

    /** Parse of the client's own statement (unnamed), for a Describe on shard 0. */
    private static ByteBuf describe(MergedReadRequest request) {
        return FrontendMessages.parse(UNPOOLED, request.sql(), request.declaredTypes());
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
