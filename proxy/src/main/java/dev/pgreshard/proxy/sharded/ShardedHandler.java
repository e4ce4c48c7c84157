package dev.pgreshard.proxy.sharded;

import dev.pgreshard.core.topology.Cluster;
import dev.pgreshard.proxy.ProxyMetrics;
import dev.pgreshard.proxy.protocol.BackendMessages;
import dev.pgreshard.proxy.protocol.FrontendMessage;
import dev.pgreshard.proxy.protocol.FrontendMessages;
import dev.pgreshard.proxy.protocol.PgFrame;
import dev.pgreshard.proxy.protocol.SqlState;
import dev.pgreshard.proxy.routing.BindValues;
import dev.pgreshard.proxy.routing.CopyCommand;
import dev.pgreshard.proxy.routing.Decision;
import dev.pgreshard.proxy.routing.RoutingTable;
import dev.pgreshard.proxy.routing.ShardRouter;
import dev.pgreshard.proxy.routing.StatementKind;
import dev.pgreshard.proxy.session.ClientSession;
import dev.pgreshard.proxy.session.QueryHandler;
import dev.pgreshard.proxy.session.SessionSettings;
import io.netty.buffer.ByteBufAllocator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

import static dev.pgreshard.proxy.protocol.FrontendMessages.UNPOOLED;

/**
 * A database with several shards. Each client request (a Query, or the extended-protocol messages
 * up to a Sync) is cut into {@link Unit}s, routed one by one with {@link ShardRouter}, sent to the
 * chosen shards' backends (opened on first use) and answered through a {@link ResponseMerger}.
 * The client's transaction is begun lazily on each shard it touches; a transaction that wrote on several
 * shards commits with two-phase commit ({@link MultiShardCommit}), and so does a single statement that
 * writes on several shards outside a transaction (an implicit transaction). With [general]
 * two_phase_commit = false such transactions are refused instead. Named statements are re-prepared on
 * any backend that has not seen them. Sending a unit is {@link UnitSender}'s part; this class decides
 * what each unit needs.
 */
public final class ShardedHandler implements QueryHandler {
    private static final Logger LOG = LoggerFactory.getLogger(ShardedHandler.class);

    private final ClientSession session;
    private final ArrayList<Unit.Part> batch = new ArrayList<>();
    private final ArrayDeque<Unit> units = new ArrayDeque<>();
    private final ShardedStatements statements = new ShardedStatements(LOG);
    private final RoutePlans plans = new RoutePlans();
    private final SessionSettings sessionSettings = new SessionSettings();
    private RoutingTable.Route route;
    private Cluster cluster;
    private long epoch;
    private final ShardLinks links;
    private final UnitSender sender;
    private boolean running;
    private boolean unitFailed;
    private final TransactionState tx = new TransactionState();
    private final TempTables temps = new TempTables();
    private final ShardedCopyIn copyIn = new ShardedCopyIn();
    private final MultiShardCommit commits;

    public ShardedHandler(ClientSession session) {
        this.session = session;
        this.links = new ShardLinks(session, sessionSettings, LOG);
        this.commits = new MultiShardCommit(session, links, tx, LOG);
        this.sender = new UnitSender(session, links, statements, tx, copyIn, this::onUnitDone, this::copyStarted, LOG);
    }

    @Override
    public void start(RoutingTable.Route route) {
        use(route);
    }

    private void use(RoutingTable.Route route) {
        this.route = route;
        cluster = route.cluster();
        epoch = route.epoch();
        links.use(cluster, session.warmUp().take(cluster), statements.byName());
        sender.use(route);
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
    public boolean blocked(char t) {
        if (!running) {
            return false;
        }
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
        if (sender.hasGroup()) {
            sender.dispatchGroup();
            return;
        }
        session.write(BackendMessages.readyForQuery(alloc(), tx.status()));
        running = false;
        session.requestDone();
    }

    private void onUnitDone(Boolean error, Runnable after) {
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

    private boolean twoPhase() {
        return commits.enabled();
    }

    /** The statement the proxy wrapped in an implicit transaction ended: commit it everywhere or nowhere. */
    private void endImplicit() {
        if (tx.failed) {
            commits.rollBackAll();
            runUnits();
            return;
        }
        commits.commit(tx.shardsInTransaction(links.all()), cluster.name(), result -> {
            if (!result.committed()) {
                commits.writeError(result);
                session.proxy().metrics().error(ProxyMetrics.ErrorKind.QUERY);
                unitFailed = true;
            }
            runUnits();
        });
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
            unit.plan = UnitPlan.of(unit, statements, session.proxy().analyzer(), plans, route, temps);
        }
        UnitPlan plan = unit.plan;
        if (sender.hasGroup() && groupShard(plan) != sender.groupShard()) {
            units.addFirst(unit); // answers must stay in order: send the group first, then this unit
            sender.dispatchGroup();
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
                return sender.send(unit, plan.targets(), true, false, null);
            }
            case KEYLESS_INSERT -> {
                return keylessInsert(unit, plan);
            }
            case DESCRIBE -> {
                // Parse/Bind/Describe without Execute: any shard can describe it (one naming a temporary table, its shard)
                int[] where = plan.targets() != null ? plan.targets() : new int[] {tx.defaultShard(links.all())};
                return sender.send(unit, where, false, false, null);
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
        if (tempDone(plan.temp()) != null
                || (tx.open && tx.tempBlocksCommit(plan.temp() != null, d.write(), new int[] {shard}, TempTables.HOME))) {
            return -1; // sent alone (its success is remembered) or refused: after the group's answers
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
                return sender.send(unit, targets.length == 0 ? new int[] {tx.defaultShard(links.all())} : targets, true, false, null);
            }
            case SESSION -> {
                boolean simple = unit.find(FrontendMessage.Query.class) != null;
                return sender.send(unit, links.openShards(), false, false, () -> {
                    rememberSetting(simple ? sql : null);
                    if (!unitFailed) {
                        temps.onSessionCommand(sql);
                    }
                });
            }
            case COPY_IN -> {
                return copyIn(unit, plan.parsed().copy(), plan.temp() != null);
            }
            default -> {
                int[] targets = d.anyShard() ? new int[] {tx.defaultShard(links.all())} : d.shards();
                if (d.write() && !tx.open && targets.length > 1 && twoPhase()) {
                    tx.beginImplicit(); // all shards or none, as one server would
                }
                String conflict = tx.admit(plan.temp() != null, d.write(), targets, cluster.name(), twoPhase());
                if (conflict != null) {
                    refuse(unit, SqlState.FEATURE_NOT_SUPPORTED, conflict);
                    return false;
                }
                if (plan.readPlan() != null) {
                    return sender.sendMerged(unit, plan, targets);
                }
                Runnable tempDone = tempDone(plan.temp());
                if (unit.extended && targets.length == 1 && d.rewritten() == null && tempDone == null) {
                    sender.addToGroup(unit, targets[0]);
                    return false;
                }
                Cluster c = cluster;
                Runnable after = d.kind() == StatementKind.ALL_SHARDS_WRITE ? () -> { // DDL may change defaults
                    KeySources.forget(c);
                    if (tempDone != null) {
                        tempDone.run();
                    }
                } : tempDone;
                return sender.send(unit, targets, true, d.sumCounts(), after, d.rewritten());
            }
        }
    }

    /** What to remember once a CREATE or DROP of a temporary object succeeded, or null for other statements. */
    private Runnable tempDone(TempTables.Use temp) {
        if (temp == null || (temp.creates() == null && temp.drops() == null)) {
            return null;
        }
        boolean inTransaction = tx.open;
        return () -> {
            if (unitFailed) {
                return;
            }
            if (temp.creates() != null) {
                temps.created(temp.creates(), temp.dropOnCommit(), inTransaction);
            } else {
                temps.dropped(temp.drops(), inTransaction);
            }
        };
    }

    /**
     * An INSERT that leaves the shard key to its default: the keys are drawn on shard 0 ({@link KeyDraw}),
     * then the rows go to their shards under the same write rules as any other write (an implicit
     * transaction with two-phase commit when they span shards outside a transaction).
     */
    private boolean keylessInsert(Unit unit, UnitPlan plan) {
        if (tx.open && tx.failed) {
            refuse(unit, SqlState.IN_FAILED_TRANSACTION, "current transaction is aborted, commands ignored until end of "
                    + "transaction block");
            return false;
        }
        FrontendMessage.Bind bind = unit.find(FrontendMessage.Bind.class);
        BindValues params = bind == null ? BindValues.NONE : new BindParameters(bind);
        MergedReadRequest request = MergedReadRequest.of(unit, plan.sql(), statements);
        KeyDraw.run(plan.keyless(), cluster, links.get(0), params, outcome -> {
            if (outcome.error() != null) {
                session.write(outcome.error().frame());
                unit.release();
                onUnitDone(true, null);
                return;
            }
            if (outcome.refusal() != null) {
                refuse(unit, outcome.sqlState(), outcome.refusal());
                runUnits();
                return;
            }
            int[] targets = outcome.placement().shards();
            if (!tx.open && targets.length > 1 && twoPhase()) {
                tx.beginImplicit(); // all shards or none, as one server would
            }
            String conflict = tx.admit(false, true, targets, cluster.name(), twoPhase());
            if (conflict != null) {
                refuse(unit, SqlState.FEATURE_NOT_SUPPORTED, conflict);
                if (tx.implicit) {
                    endImplicit();
                } else {
                    runUnits();
                }
                return;
            }
            sender.sendSplitInsert(unit, outcome.placement(), request, plan.keyless().returning());
        });
        return true;
    }

    private boolean endTransaction(Unit unit, StatementKind kind) {
        int[] targets = tx.open ? tx.shardsInTransaction(links.all()) : new int[0];
        boolean rollbackInstead = kind == StatementKind.COMMIT && tx.failed;
        String tag = kind == StatementKind.ROLLBACK || rollbackInstead ? "ROLLBACK" : "COMMIT";
        Runnable reset = () -> {
            temps.transactionEnded(tag.equals("COMMIT") && !unitFailed);
            tx.end(links.all());
        };
        if (kind == StatementKind.COMMIT && !rollbackInstead && tx.multiShard() && twoPhase()) {
            commits.commit(targets, cluster.name(), result -> {
                temps.transactionEnded(result.committed());
                if (result.committed()) {
                    answerLocally(unit, "COMMIT");
                    onUnitDone(false, null);
                } else {
                    commits.writeError(result);
                    unit.release();
                    onUnitDone(true, null);
                }
            });
            return true;
        }
        if (targets.length == 0 || rollbackInstead) {
            for (int shard : targets) {
                links.get(shard).send(ResponseSink.internal("ROLLBACK", LOG), FrontendMessages.query(UNPOOLED, "ROLLBACK"));
            }
            reset.run();
            answerLocally(unit, tag);
            return false;
        }
        return sender.send(unit, targets, false, false, reset);
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

    private boolean copyIn(Unit unit, CopyCommand command, boolean temp) {
        int[] all = temp ? new int[] {TempTables.HOME} : Decision.all(cluster.shardCount());
        String refusal = copyIn.refusal(command, cluster);
        if (refusal == null) {
            refusal = tx.admit(temp, true, all, cluster.name(), twoPhase());
        }
        if (refusal != null) {
            refuse(unit, SqlState.FEATURE_NOT_SUPPORTED, refusal);
            return false;
        }
        copyIn.begin(command, cluster, all, links.all());
        return sender.send(unit, all, true, cluster.isSharded(command.table()), copyIn::finished);
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
    public boolean canSwitchTo(RoutingTable.Route route) {
        return route.cluster().shardCount() > 1;
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
    public java.util.Map<String, PgFrame> namedStatements() {
        return statements.byName();
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
        releaseAll();
    }

    @Override
    public void retire() {
        links.retireAll();
        releaseAll();
    }

    private void releaseAll() {
        batch.forEach(p -> p.frame().release());
        batch.clear();
        units.forEach(Unit::release);
        units.clear();
        sender.releaseGroup();
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
