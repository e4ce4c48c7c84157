package dev.pgreshard.proxy.passthrough;

import dev.pgreshard.core.config.Credentials;
import dev.pgreshard.proxy.ProxyMetrics;
import dev.pgreshard.proxy.backend.BackendConnection;
import dev.pgreshard.proxy.backend.BackendListener;
import dev.pgreshard.proxy.backend.CancelSender;
import dev.pgreshard.proxy.backend.WarmConnections;
import dev.pgreshard.proxy.protocol.FrontendMessages;
import dev.pgreshard.proxy.protocol.PgFrame;
import dev.pgreshard.proxy.protocol.RelayedBytes;
import dev.pgreshard.proxy.protocol.ServerMessages;
import dev.pgreshard.proxy.protocol.SqlState;
import dev.pgreshard.proxy.routing.RoutingTable;
import dev.pgreshard.proxy.session.ClientSession;
import dev.pgreshard.proxy.session.QueryHandler;
import dev.pgreshard.proxy.session.SessionSettings;
import io.micrometer.core.instrument.Counter;
import io.netty.buffer.ByteBuf;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;

import static dev.pgreshard.proxy.protocol.FrontendMessages.UNPOOLED;

/**
 * A database served by a single shard: every message is forwarded unchanged, in both directions,
 * batched per socket read. The handler only watches what it must: ReadyForQuery (transaction state
 * for the pause gate), Query/Sync counts (requests in flight), Parse/Close of named statements (to
 * re-prepare them after a cutover moved the client to another server).
 * <p>
 * Neither direction makes an object per message. Client messages arrive as places in the read that
 * brought them; consecutive ones go to the server as one slice of it ({@link #handle(ByteBuf, int, int)}).
 * The server's answers arrive as {@link RelayedBytes}, one per read, with their ReadyForQuery messages
 * already counted; only the answers to the handler's own requests (re-preparing after a switch) are read
 * message by message, and swallowed.
 */
public final class PassThroughHandler implements QueryHandler, BackendListener {
    private static final Logger LOG = LoggerFactory.getLogger(PassThroughHandler.class);

    private final ClientSession session;
    private final PreparedStatements statements = new PreparedStatements();
    private final SessionSettings settings = new SessionSettings();
    private BackendConnection backend;
    private long epoch;
    private boolean loggedIn;
    /** Query and Sync messages sent whose ReadyForQuery has not come back. */
    private int requestsInFlight;
    /** Re-prepare requests (sent by us, not the client) still to be answered; their answers are swallowed. */
    private int internalRequests;
    /** An extended-protocol message went out after the last Sync. */
    private boolean openBatch;
    private char transactionStatus = 'I';
    /** pgreshard_proxy_queries_total of the current route's shard. */
    private Counter queries;
    /** Requests counted but not yet added to {@link #queries} (added once per flush, not per message). */
    private int uncountedQueries;
    /** Client messages handled but not yet written: {@code [pendingFrom, pendingTo)} of {@code pending} (retained). */
    private ByteBuf pending;
    private int pendingFrom;
    private int pendingTo;

    public PassThroughHandler(ClientSession session) {
        this.session = session;
    }

    @Override
    public void start(RoutingTable.Route route) {
        connect(route, null);
        backend.relay(true);
    }

    /** Serves {@code route} from now on, over {@code warm}'s connection when one was prepared (else a new one). */
    private void connect(RoutingTable.Route route, WarmConnections warm) {
        countQueries();
        epoch = route.epoch();
        queries = session.proxy().metrics().queries(route.database(), route.cluster().name(), 0);
        if (warm != null) {
            backend = warm.adopt(0, this);
            return;
        }
        Credentials creds = session.serverCredentials(route.cluster().name());
        BackendConnection.LoginKey login = BackendConnection.loginKey(route.cluster().shard(0), creds, session.startupParameters());
        BackendConnection kept = session.proxy().idleServers().take(session.eventLoop(), login, this);
        if (kept != null) {
            backend = kept;
            // logged in already: the session hears so as from a login, after the caller has set the connection up
            session.eventLoop().execute(() -> onBackendReady(kept));
            return;
        }
        backend = BackendConnection.open(session.eventLoop(), route.cluster().shard(0), login,
                session.proxy().options().maxMessage(), this);
    }

    @Override
    public void handle(PgFrame frame) {
        try {
            handle(frame.frame(), frame.frame().readerIndex(), frame.frame().readableBytes());
        } finally {
            frame.release();
        }
    }

    @Override
    public void handle(ByteBuf messages, int index, int length) {
        switch (messages.getByte(index)) {
            case 'X' -> {
                session.close();
                return;
            }
            case 'Q' -> {
                requestsInFlight++;
                uncountedQueries++;
                settings.onQuery(view(messages, index, length));
            }
            case 'S' -> {
                requestsInFlight++;
                uncountedQueries++;
                openBatch = false;
            }
            case 'F' -> {
                // a FunctionCall (fast path, e.g. PgJDBC's large objects) is answered up to its own ReadyForQuery
                requestsInFlight++;
                uncountedQueries++;
            }
            case 'P' -> {
                PgFrame parse = view(messages, index, length);
                statements.onParse(parse);
                settings.onParse(parse);
                openBatch = true;
            }
            case 'C' -> {
                statements.onClose(view(messages, index, length));
                openBatch = true;
            }
            case 'd', 'c', 'f' -> {
                // COPY data flows inside a request already counted
            }
            default -> openBatch = true;
        }
        if (messages == pending && index == pendingTo) {
            pendingTo += length; // the next message of the same read: one slice for all of them
            return;
        }
        writePending();
        pending = messages.retain();
        pendingFrom = index;
        pendingTo = index + length;
    }

    /** A message to read in place (no reference of its own; valid during the call only). */
    private static PgFrame view(ByteBuf messages, int index, int length) {
        return new PgFrame(messages.getByte(index), messages.slice(index, length));
    }

    /** Writes the client messages handled so far to the server (before anything else is written there). */
    private void writePending() {
        if (pending != null) {
            ByteBuf slice = pending.slice(pendingFrom, pendingTo - pendingFrom); // carries our reference
            pending = null;
            backend.write(slice);
        }
    }

    private void countQueries() {
        if (uncountedQueries > 0 && queries != null) {
            queries.increment(uncountedQueries);
        }
        uncountedQueries = 0;
    }

    @Override
    public void flushBackends() {
        if (backend != null) {
            writePending();
            countQueries();
            backend.flush();
        }
    }

    @Override
    public boolean idle() {
        return requestsInFlight == 0 && !openBatch && transactionStatus == 'I';
    }

    @Override
    public boolean awaitingAnswers() {
        return requestsInFlight > 0;
    }

    @Override
    public boolean betweenRequests() {
        return !openBatch;
    }

    @Override
    public long epoch() {
        return epoch;
    }

    @Override
    public boolean canSwitchTo(RoutingTable.Route route) {
        return route.cluster().shardCount() == 1;
    }

    @Override
    public void switchRoute(RoutingTable.Route route) {
        writePending(); // what the client sent so far belongs to the old server
        BackendConnection old = backend;
        internalRequests = 0; // answers still owed by the old server are dropped with it
        WarmConnections warm = session.warmUp().take(route.cluster());
        connect(route, warm);
        if (old != null) {
            old.retire();
        }
        reprepare(warm);
    }

    @Override
    public List<PgFrame> takeStatements() {
        List<PgFrame> all = new java.util.ArrayList<>(statements.all());
        statements.forget();
        return all;
    }

    @Override
    public List<String> takeSettings() {
        return settings.all();
    }

    @Override
    public void adopt(RoutingTable.Route route, List<PgFrame> adopted, List<String> adoptedSettings) {
        loggedIn = true;
        settings.addAll(adoptedSettings);
        adopted.forEach(statements::add);
        WarmConnections warm = session.warmUp().take(route.cluster());
        connect(route, warm);
        reprepare(warm);
    }

    @Override
    public List<String> settings() {
        return settings.all();
    }

    @Override
    public java.util.Map<String, PgFrame> namedStatements() {
        return statements.byName();
    }

    /**
     * Brings a server the client was moved to up to the client's session: its SET statements and named
     * statements, sent ahead of the client's next messages. A connection prepared ahead of the switch
     * ({@code warm}) has them already; only what changed since it was prepared is sent.
     */
    private void reprepare(WarmConnections warm) {
        List<String> sets = settings.all();
        if (warm == null || !warm.settings().equals(sets)) {
            if (warm != null && !warm.settings().isEmpty()) {
                backend.write(FrontendMessages.query(UNPOOLED, "RESET ALL"));
                internalRequests++;
            }
            for (String set : sets) {
                backend.write(FrontendMessages.query(UNPOOLED, set));
                internalRequests++;
            }
        }
        java.util.Map<String, PgFrame> there = warm == null ? java.util.Map.of() : warm.preparedOn(0);
        boolean sent = false;
        for (java.util.Map.Entry<String, PgFrame> st : statements.byName().entrySet()) {
            PgFrame preparedFrom = there.get(st.getKey());
            if (preparedFrom == st.getValue()) {
                continue;
            }
            if (preparedFrom != null) {
                backend.write(FrontendMessages.closeStatement(UNPOOLED, st.getKey()));
            }
            backend.write(st.getValue().frame().retainedDuplicate());
            sent = true;
        }
        for (String name : there.keySet()) {
            if (!statements.byName().containsKey(name)) { // closed by the client since: a Parse of the name must not find it
                backend.write(FrontendMessages.closeStatement(UNPOOLED, name));
                sent = true;
            }
        }
        if (sent) {
            backend.write(FrontendMessages.sync(UNPOOLED));
            internalRequests++;
        }
        // the answers to our own requests are read one by one (and swallowed); the client's are relayed
        backend.relay(internalRequests == 0);
    }

    @Override
    public void cancel() {
        if (backend != null && backend.isReady() && requestsInFlight > 0) {
            CancelSender.send(session.eventLoop(), backend.shard(), backend.processId(), backend.secretKey());
        }
    }

    @Override
    public void clientWritable(boolean writable) {
        if (backend != null) {
            backend.setAutoRead(writable);
        }
    }

    @Override
    public void close() {
        close(false);
    }

    @Override
    public void retire() {
        close(true);
    }

    private void close(boolean retire) {
        if (backend != null) {
            writePending();
            countQueries();
            if (retire) {
                backend.retire();
            } else if (reusable()) {
                session.proxy().idleServers().giveBack(backend, session.eventLoop());
            } else {
                backend.close();
            }
        }
        statements.clear();
    }

    /**
     * The server connection is at a transaction boundary with every request answered and nothing of ours
     * owed: a reset makes it as good as new for the next session of the same login.
     */
    private boolean reusable() {
        return loggedIn && backend.isReady() && !backend.isClosed() && requestsInFlight == 0 && internalRequests == 0
                && !openBatch && transactionStatus == 'I';
    }

    @Override
    public List<String> backendDescriptions() {
        return backend == null ? List.of() : List.of(backend.shard().describe() + " pid " + backend.processId());
    }

    // ---- BackendListener

    @Override
    public void onBackendReady(BackendConnection b) {
        if (b != backend) {
            return;
        }
        if (!loggedIn) {
            loggedIn = true;
            session.loginComplete(b.parameters(), b.processId());
        }
    }

    @Override
    public void onBackendMessage(BackendConnection b, PgFrame frame) {
        if (b != backend) {
            frame.release();
            return;
        }
        if (internalRequests > 0) {
            if (frame.typeChar() == 'E') {
                LOG.warn("re-preparing statements on {} failed: {}", b.shard().describe(), ServerMessages.describeError(frame));
            } else if (frame.typeChar() == 'Z' && --internalRequests == 0) {
                b.relay(true);
            }
            frame.release();
            return;
        }
        if (frame.typeChar() == 'E') {
            session.proxy().metrics().error(ProxyMetrics.ErrorKind.QUERY);
        }
        if (frame.typeChar() == 'Z') {
            transactionStatus = ServerMessages.readyStatus(frame);
            requestsInFlight--;
            session.write(frame.frame());
            session.requestDone();
            return;
        }
        session.write(frame.frame());
    }

    @Override
    public void onBackendBytes(BackendConnection b, RelayedBytes bytes) {
        if (b != backend) {
            bytes.release();
            return;
        }
        for (int i = 0; i < bytes.errors(); i++) {
            session.proxy().metrics().error(ProxyMetrics.ErrorKind.QUERY);
        }
        session.write(bytes.bytes());
        if (bytes.ready() > 0) {
            // the last ReadyForQuery of the read says where the session stands: everything before it is answered
            transactionStatus = bytes.status();
            requestsInFlight -= bytes.ready();
            session.requestDone();
        }
    }

    @Override
    public void onBackendEnded(BackendConnection b, PgFrame fatal) {
        if (b != backend) {
            fatal.release();
            return;
        }
        LOG.info("session {}: {} ended the session: {}", session.processId(), b.shard().describe(),
                ServerMessages.describeError(fatal));
        session.endWith(fatal.frame());
    }

    @Override
    public void onBackendReadComplete(BackendConnection b) {
        session.backendReadComplete();
    }

    @Override
    public void onBackendWritabilityChanged(BackendConnection b, boolean writable) {
        session.backendWritable(writable);
    }

    @Override
    public void onBackendFailure(BackendConnection b, String sqlState, String message) {
        if (b != backend) {
            return;
        }
        LOG.warn("session {}: {}", session.processId(), message);
        session.proxy().metrics().error(ProxyMetrics.ErrorKind.BACKEND);
        session.fatal(loggedIn ? SqlState.CONNECTION_FAILURE : sqlState, message);
    }
}
