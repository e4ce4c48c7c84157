package dev.pgreshard.proxy.session;

import dev.pgreshard.core.topology.Cluster;
import dev.pgreshard.proxy.ProxyMetrics;
import dev.pgreshard.proxy.protocol.BackendMessages;
import dev.pgreshard.proxy.protocol.FrontendMessage;
import dev.pgreshard.proxy.protocol.PgFrame;
import dev.pgreshard.proxy.protocol.SqlState;
import dev.pgreshard.proxy.routing.CopyCommand;
import dev.pgreshard.proxy.routing.Decision;
import dev.pgreshard.proxy.routing.RoutingTable;
import dev.pgreshard.proxy.routing.ShardRouter;
import dev.pgreshard.proxy.routing.StatementKind;
import dev.pgreshard.proxy.twophase.TwoPhaseCoordinator;
import io.micrometer.core.instrument.Counter;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A database with several shards. Each client request (a Query, or the extended-protocol messages
 * up to a Sync) is cut into {@link Unit}s, routed one by one with {@link ShardRouter}, sent to the
 * chosen shards' backends (opened on first use) and answered through a {@link ResponseMerger}.
 * The client's transaction is begun lazily on each shard it touches; a transaction that wrote on several
 * shards commits with two-phase commit ({@link MultiShardCommit}), and so does a single statement that
 * writes on several shards outside a transaction (an implicit transaction). With [general]
 * two_phase_commit = false such transactions are refused instead. Named statements are re-prepared on
 * any backend that has not seen them.
 */
final class ShardedHandler implements QueryHandler, BackendFlusher {
    private static final Logger LOG = LoggerFactory.getLogger(ShardedHandler.class);

    private final ClientSession session;
    private final ArrayList<Unit.Part> batch = new ArrayList<>();
    private final ArrayDeque<Unit> units = new ArrayDeque<>();
    private final ShardedStatements statements = new ShardedStatements(LOG);
    private final SessionSettings sessionSettings = new SessionSettings();
    private RoutingTable.Route route;
    private Cluster cluster;
    private long epoch;
    private Group group;
    private final ShardLinks links;
    private boolean running;
    private boolean unitFailed;
    private final TransactionState tx = new TransactionState();
    private final ShardedCopyIn copyIn = new ShardedCopyIn();
    /** pgreshard_proxy_queries_total per shard of the current route. */
    private Counter[] queries;

    ShardedHandler(ClientSession session) {
        this.session = session;
        this.links = new ShardLinks(session, sessionSettings, LOG);
    }

    @Override
    public void start(RoutingTable.Route route) {
        use(route);
    }

    private void use(RoutingTable.Route route) {
        this.route = route;
        cluster = route.cluster();
        epoch = route.epoch();
        links.use(cluster);
        queries = new Counter[cluster.shardCount()];
        for (int i = 0; i < queries.length; i++) {
            queries[i] = session.proxy().metrics().queries(route.database(), cluster.name(), i);
        }
    }

    private ShardLink link(int shard) {
        return links.get(shard);
    }

    // ---- client input

    @Override
    public void handle(PgFrame frame) {
        char type = frame.typeChar();
        switch (type) {
            case 'X' -> {
                frame.release();
                session.close();
            }
            case 'Q' -> {
                units.add(Unit.query((FrontendMessage.Query) FrontendMessage.decode(frame), frame));
                startRequest();
            }
            case 'S' -> {
                frame.release();
                units.addAll(Unit.split(batch));
                batch.clear();
                startRequest();
            }
            case 'd', 'c', 'f' -> onCopyMessage(frame);
            default -> batch.add(new Unit.Part(FrontendMessage.decode(frame), frame));
        }
    }

    @Override
    public boolean blocked(PgFrame next) {
        if (!running) {
            return false;
        }
        char t = next.typeChar();
        return !(copyIn.active() && (t == 'd' || t == 'c' || t == 'f'));
    }

    @Override
    public boolean idle() {
        return !running && batch.isEmpty() && !tx.open;
    }

    @Override
    public boolean betweenRequests() {
        return batch.isEmpty();
    }

    @Override
    public long epoch() {
        return epoch;
    }

    private void startRequest() {
        running = true;
        unitFailed = false;
        runUnits();
    }

    /** Runs units until one has to wait for backends; ends the request with ReadyForQuery when all ran. */
    private void runUnits() {
        while (!units.isEmpty()) {
            Unit unit = units.poll();
            if (unitFailed) {
                unit.release();
                continue;
            }
            if (execute(unit)) {
                return; // continues in onUnitDone
            }
        }
        if (group != null) {
            dispatchGroup();
            return;
        }
        session.write(BackendMessages.readyForQuery(alloc(), tx.status()));
        session.flush();
        running = false;
        session.requestDone();
    }

    private void onUnitDone(boolean error, Runnable after) {
        if (error) {
            session.proxy().metrics().error(ProxyMetrics.ErrorKind.QUERY);
            failUnit();
        }
        if (after != null) {
            after.run();
        }
        if (tx.open && tx.implicit) {
            endImplicit();
            return;
        }
        runUnits();
    }

    /** Multi-shard transactions commit with 2PC: configured, and the proxy has its decision log. */
    private boolean twoPhase() {
        return session.proxy().twoPhaseCommit();
    }

    /** The statement the proxy wrapped in an implicit transaction ended: commit it everywhere or nowhere. */
    private void endImplicit() {
        if (tx.failed) {
            rollBackAll();
            runUnits();
            return;
        }
        commitMultiShard(tx.shardsInTransaction(links.all()), result -> {
            if (!result.committed()) {
                writeCommitError(result);
                session.proxy().metrics().error(ProxyMetrics.ErrorKind.QUERY);
                unitFailed = true;
            }
            runUnits();
        });
    }

    /** Rolls the transaction back on every shard it touched (the answers are dropped) and ends it. */
    private void rollBackAll() {
        for (int shard : tx.shardsInTransaction(links.all())) {
            ShardLink l = link(shard);
            l.send(ResponseSink.internal("ROLLBACK", LOG), ShardLink.query("ROLLBACK"));
            l.backend.flush();
        }
        tx.end(links.all());
    }

    /** Two-phase commit of the shards written on; the others in {@code targets} only read and commit one-phase. */
    private void commitMultiShard(int[] targets, java.util.function.Consumer<TwoPhaseCoordinator.Result> done) {
        List<ShardLink> written = new ArrayList<>();
        List<ShardLink> readOnly = new ArrayList<>();
        for (int shard : targets) {
            (tx.wrote(shard) ? written : readOnly).add(link(shard));
        }
        MultiShardCommit.commit(session, written, readOnly, cluster.name(), LOG, result -> {
            tx.end(links.all());
            done.accept(result);
        });
    }

    /** The commit's error for the client: the shard's own ErrorResponse when a shard refused. */
    private void writeCommitError(TwoPhaseCoordinator.Result result) {
        if (result.shardError() != null) {
            session.write(result.shardError().frame());
        } else {
            session.writeError(result.sqlState(), result.message());
        }
    }

    private void failUnit() {
        unitFailed = true;
        if (tx.open) {
            tx.failed = true;
        }
    }

    private void refuse(Unit unit, String sqlState, String message) {
        session.proxy().metrics().error(ProxyMetrics.ErrorKind.REFUSED);
        unit.release();
        session.writeError(sqlState, message);
        failUnit();
    }

    /** Returns true when the unit went to backends (the request continues when they answered). */
    private boolean execute(Unit unit) {
        if (unit.plan == null) {
            unit.plan = UnitPlan.of(unit, statements, session.proxy().analyzer(), route);
        }
        UnitPlan plan = unit.plan;
        if (group != null && groupShard(plan) != group.shard) {
            units.addFirst(unit); // answers must stay in order: send the group first, then this unit
            dispatchGroup();
            return true;
        }
        switch (plan.kind()) {
            case CLOSE -> {
                statements.close(unit.find(FrontendMessage.Close.class), links.all());
                unit.release();
                session.write(BackendMessages.empty(alloc(), '3'));
                return false;
            }
            case REFUSE -> {
                refuse(unit, plan.sqlState(), plan.error());
                return false;
            }
            case PORTAL -> {
                return send(unit, plan.targets(), true, false, null);
            }
            case DESCRIBE -> {
                // Parse/Bind/Describe without Execute: any shard can describe it
                return send(unit, new int[] {tx.defaultShard(links.all())}, false, false, null);
            }
            default -> {
                return executeStatement(unit, plan);
            }
        }
    }

    /** The shard a unit can join a group for, or -1 when it must go alone. */
    private int groupShard(UnitPlan plan) {
        if (!plan.singleShardData() || (tx.open && tx.failed)) {
            return -1;
        }
        Decision d = plan.decision();
        int shard = d.anyShard() ? tx.defaultShard(links.all()) : d.shards()[0];
        if (d.write() && tx.open && tx.writeShard >= 0 && tx.writeShard != shard && !twoPhase()) {
            return -1; // will be refused: the refusal must come after the group's answers
        }
        return shard;
    }

    private boolean executeStatement(Unit unit, UnitPlan plan) {
        Decision d = plan.decision();
        String sql = plan.sql();
        if (tx.open && tx.failed && d.kind() != StatementKind.COMMIT && d.kind() != StatementKind.ROLLBACK
                && d.kind() != StatementKind.IN_TRANSACTION) {
            refuse(unit, SqlState.IN_FAILED_TRANSACTION, "current transaction is aborted, commands ignored until end of "
                    + "transaction block");
            return false;
        }
        switch (d.kind()) {
            case BEGIN -> {
                if (tx.open) {
                    session.write(BackendMessages.notice(alloc(), "25001", "there is already a transaction in progress"));
                } else {
                    tx.begin(sql);
                }
                answerLocally(unit, "BEGIN");
                return false;
            }
            case COMMIT, ROLLBACK -> {
                return endTransaction(unit, d.kind());
            }
            case IN_TRANSACTION -> {
                int[] targets = tx.open ? tx.shardsInTransaction(links.all()) : new int[0];
                return send(unit, targets.length == 0 ? new int[] {tx.defaultShard(links.all())} : targets, true, false, null);
            }
            case SESSION -> {
                boolean simple = unit.find(FrontendMessage.Query.class) != null;
                return send(unit, links.openShards(), false, false, () -> rememberSetting(simple ? sql : null));
            }
            case COPY_IN -> {
                return copyIn(unit, plan.parsed().copy());
            }
            default -> {
                int[] targets = d.anyShard() ? new int[] {tx.defaultShard(links.all())} : d.shards();
                if (d.write() && !tx.open && targets.length > 1 && twoPhase()) {
                    tx.beginImplicit(); // all shards or none, as one server would
                }
                if (d.write() && tx.open) {
                    String conflict = tx.claimWrites(targets, cluster.name(), twoPhase());
                    if (conflict != null) {
                        refuse(unit, SqlState.FEATURE_NOT_SUPPORTED, conflict);
                        return false;
                    }
                }
                if (unit.extended && targets.length == 1 && d.rewritten() == null) {
                    addToGroup(unit, targets[0]);
                    return false;
                }
                return send(unit, targets, true, d.sumCounts(), null, d.rewritten());
            }
        }
    }

    /**
     * Consecutive extended-protocol units bound for one shard travel together under one Sync, as the
     * client sent them: one round trip, and one implicit transaction on that shard, like a server would.
     */
    private void addToGroup(Unit unit, int shard) {
        if (group == null) {
            group = new Group(shard);
        }
        ShardLink l = link(shard);
        FrontendMessage.Bind bind = unit.find(FrontendMessage.Bind.class);
        FrontendMessage.Parse parse = unit.find(FrontendMessage.Parse.class);
        if (bind != null) {
            statements.bindPortal(bind.portal(), new int[] {shard});
            if (parse == null || !parse.statement().equals(bind.statement())) {
                statements.ensurePrepared(l, bind.statement());
            }
        }
        if (tx.open && !l.inTransaction) {
            l.send(ResponseSink.internal("BEGIN", LOG), ShardLink.query(tx.beginSql));
            l.inTransaction = true;
        }
        unit.parts.forEach(p -> group.frames.add(p.frame().frame().retainedDuplicate()));
        if (parse != null) {
            statements.preparedOn(l, parse.statement());
        }
        unit.release();
    }

    private void dispatchGroup() {
        Group g = group;
        group = null;
        ShardLink l = link(g.shard);
        ResponseMerger merger = new ResponseMerger(new int[] {g.shard}, false, session, this::copyStarted,
                error -> onUnitDone(error, null));
        g.frames.add(ShardLink.sync());
        queries[g.shard].increment();
        l.send(merger, g.frames.toArray(ByteBuf[]::new));
        l.backend.flush();
    }

    /** Units gathered for one shard, not sent yet. */
    private static final class Group {
        final int shard;
        final List<ByteBuf> frames = new ArrayList<>();

        Group(int shard) {
            this.shard = shard;
        }
    }

    private boolean send(Unit unit, int[] targets, boolean inTransaction, boolean sumCounts, Runnable after) {
        return send(unit, targets, inTransaction, sumCounts, after, null);
    }

    /** Sends the unit to {@code targets} (rewritten SQL per shard when given) and merges the answers. */
    private boolean send(Unit unit, int[] targets, boolean inTransaction, boolean sumCounts, Runnable after,
                         Map<Integer, String> rewritten) {
        ResponseSink merger;
        if (targets.length > 1 && !copyIn.active() && oneStatement(unit)) {
            merger = new StreamingMerger(targets, sumCounts, session, error -> onUnitDone(error, after));
        } else {
            ResponseMerger m = new ResponseMerger(targets, sumCounts, session, this::copyStarted,
                    error -> onUnitDone(error, after));
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
            ShardLink l = link(shard);
            if (bind != null && (parse == null || !parse.statement().equals(bind.statement()))) {
                statements.ensurePrepared(l, bind.statement());
            }
            if (inTransaction && tx.open && !l.inTransaction) {
                l.send(ResponseSink.internal("BEGIN", LOG), ShardLink.query(tx.beginSql));
                l.inTransaction = true;
            }
            List<ByteBuf> frames = new ArrayList<>();
            if (rewritten != null) {
                frames.add(ShardLink.query(rewritten.get(shard)));
            } else {
                unit.parts.forEach(p -> frames.add(p.frame().frame().retainedDuplicate()));
                if (unit.extended) {
                    frames.add(ShardLink.sync());
                }
            }
            queries[shard].increment();
            l.send(merger, frames.toArray(ByteBuf[]::new));
            if (parse != null) {
                statements.preparedOn(l, parse.statement());
            }
            l.backend.flush();
        }
        unit.release();
        return true;
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

    private boolean endTransaction(Unit unit, StatementKind kind) {
        int[] targets = tx.open ? tx.shardsInTransaction(links.all()) : new int[0];
        boolean rollbackInstead = kind == StatementKind.COMMIT && tx.failed;
        String tag = kind == StatementKind.ROLLBACK || rollbackInstead ? "ROLLBACK" : "COMMIT";
        Runnable reset = () -> tx.end(links.all());
        if (kind == StatementKind.COMMIT && !rollbackInstead && tx.multiShard() && twoPhase()) {
            commitMultiShard(targets, result -> {
                if (result.committed()) {
                    answerLocally(unit, "COMMIT");
                    onUnitDone(false, null);
                } else {
                    writeCommitError(result);
                    unit.release();
                    onUnitDone(true, null);
                }
            });
            return true;
        }
        if (targets.length == 0 || rollbackInstead) {
            for (int shard : targets) {
                ShardLink l = link(shard);
                l.send(ResponseSink.internal("ROLLBACK", LOG), ShardLink.query("ROLLBACK"));
                l.backend.flush();
            }
            reset.run();
            answerLocally(unit, tag);
            return false;
        }
        return send(unit, targets, false, false, reset);
    }

    /** Answers a unit without a backend, as PostgreSQL would for {@code tag}. */
    private void answerLocally(Unit unit, String tag) {
        LocalAnswers.answer(session, unit, tag);
    }

    private void rememberSetting(String sql) {
        if (sql != null && !unitFailed) {
            sessionSettings.record(sql);
        }
    }

    // ---- COPY FROM STDIN (rows split by CopyRowSplitter)

    private boolean copyIn(Unit unit, CopyCommand command) {
        int[] all = Decision.all(cluster.shardCount());
        String refusal = copyIn.refusal(command, cluster);
        if (refusal == null && tx.open) {
            refusal = tx.claimWrites(all, cluster.name(), twoPhase());
        }
        if (refusal != null) {
            refuse(unit, SqlState.FEATURE_NOT_SUPPORTED, refusal);
            return false;
        }
        copyIn.begin(command, cluster, all, links.all());
        return send(unit, all, true, cluster.isSharded(command.table()), copyIn::finished);
    }

    private void copyStarted() {
        session.pump(); // let the client's CopyData through
    }

    private void onCopyMessage(PgFrame frame) {
        copyIn.onClientMessage(frame);
    }

    // ---- session plumbing

    @Override
    public void flushBackends() {
        links.flush();
    }

    @Override
    public void switchRoute(RoutingTable.Route route) {
        statements.clearPortals();
        use(route);
    }

    @Override
    public List<String> takeSettings() {
        return sessionSettings.all();
    }

    @Override
    public List<PgFrame> takeStatements() {
        return statements.takeAll();
    }

    @Override
    public void adopt(RoutingTable.Route route, List<PgFrame> adopted, List<String> adoptedSettings) {
        links.alreadyLoggedIn();
        sessionSettings.addAll(adoptedSettings);
        statements.adopt(adopted);
        use(route);
    }

    @Override
    public void clientWritable(boolean writable) {
        links.setAutoRead(writable);
    }

    @Override
    public void cancel() {
        links.cancel();
    }

    @Override
    public void close() {
        links.closeAll();
        batch.forEach(p -> p.frame().release());
        batch.clear();
        units.forEach(Unit::release);
        units.clear();
        if (group != null) {
            group.frames.forEach(ByteBuf::release);
            group = null;
        }
        statements.releaseAll();
        copyIn.finished();
    }

    @Override
    public List<String> backendDescriptions() {
        return links.describe();
    }

    private ByteBufAllocator alloc() {
        return session.channel().alloc();
    }
}
