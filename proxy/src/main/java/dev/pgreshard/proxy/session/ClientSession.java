package dev.pgreshard.proxy.session;

import dev.pgreshard.proxy.ProxyContext;
import dev.pgreshard.proxy.auth.UserDirectory;
import dev.pgreshard.proxy.protocol.BackendMessages;
import dev.pgreshard.proxy.protocol.FrontendMessage;
import dev.pgreshard.proxy.protocol.PgFrame;
import dev.pgreshard.proxy.protocol.PgFrameDecoder;
import dev.pgreshard.proxy.protocol.ProtocolException;
import dev.pgreshard.proxy.protocol.SqlState;
import dev.pgreshard.proxy.protocol.StartupPacket;
import dev.pgreshard.proxy.routing.RoutingTable;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.DecoderException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Map;

/**
 * One client connection: the startup phase (SSLRequest, GSSENCRequest, CancelRequest,
 * StartupMessage), password authentication, then the message phase, where client messages pass the
 * pause gate and the routing-epoch check at each transaction boundary before the {@link QueryHandler}
 * gets them. Everything runs on the channel's event loop. A protocol violation ends this connection
 * only; nothing a client sends can affect another session. The startup phase is {@link ClientStartup};
 * the handler comes from the proxy's {@link QueryHandlerFactory}; {@link #flushAll} is the flush rule.
 */
public final class ClientSession extends ChannelInboundHandlerAdapter {
    private static final Logger LOG = LoggerFactory.getLogger(ClientSession.class);

    enum State { STARTUP, AUTHENTICATING, CONNECTING, READY, CLOSED }

    private final ProxyContext proxy;
    private final PgFrameDecoder decoder;
    private Channel channel;
    private State state = State.STARTUP;
    private Map<String, String> startupParameters;
    private String user;
    private volatile String database;
    private int processId;
    private int secretKey;
    private final ClientStartup startup;
    /** The users.toml entry the client logs in with (null before the StartupMessage): who it is on the servers. */
    private UserDirectory.Login login;
    private QueryHandler handler;
    private final MessagePump pump;
    private boolean countedAsClient;
    /** Server connections opened ahead of a switch of this database (null when none); see {@link SwitchWarmUp}. */
    private final SwitchWarmUp warmUp = new SwitchWarmUp(this);
    private final long connectedAt = System.currentTimeMillis();

    public ClientSession(ProxyContext proxy, PgFrameDecoder decoder) {
        this.proxy = proxy;
        this.decoder = decoder;
        this.startup = new ClientStartup(this, proxy);
        this.pump = new MessagePump(this, proxy);
    }

    // ---- accessors used by handlers, the registry and the admin database

    public ProxyContext proxy() {
        return proxy;
    }

    public String database() {
        return database;
    }

    public String user() {
        return user;
    }

    /**
     * The credentials of this client on the servers of {@code cluster}: its own users.toml entry's
     * (never the first entry of the database, which is the worker's); see {@link UserDirectory#serverLogin}.
     */
    public dev.pgreshard.core.config.Credentials serverCredentials(String cluster) {
        return proxy.users().serverLogin(login, cluster);
    }

    public int processId() {
        return processId;
    }

    public boolean isBusy() {
        return pump.busy();
    }

    public boolean isHolding() {
        return pump.holding();
    }

    /**
     * What keeps this session busy, for the log of a pause that does not drain (read off the event
     * loop: a snapshot that may be a moment old, good enough to tell a stuck session from a slow one).
     */
    public String describeBusy() {
        QueryHandler h = handler;
        return "session " + processId + " (client " + remoteAddress() + ", " + (h == null ? "no handler"
                : h.getClass().getSimpleName() + " epoch " + h.epoch() + ", idle " + h.idle() + ", awaiting answers "
                + h.awaitingAnswers() + ", between requests " + h.betweenRequests()) + ", " + pump.queued()
                + " bytes of client messages queued, holding " + pump.holding() + ")";
    }

    public long connectedAt() {
        return connectedAt;
    }

    public String remoteAddress() {
        return channel == null ? "?" : String.valueOf(channel.remoteAddress());
    }

    public Map<String, String> startupParameters() {
        return startupParameters;
    }

    public EventLoop eventLoop() {
        return channel.eventLoop();
    }

    public QueryHandler handler() {
        return handler;
    }

    public Channel channel() {
        return channel;
    }

    /** The connections prepared ahead of a switch of this session's database (see {@link SwitchWarmUp}). */
    public SwitchWarmUp warmUp() {
        return warmUp;
    }

    /**
     * After a swap of this session's database: a session at a transaction boundary moves to the new route
     * now rather than at its next transaction, so its connections to the old cluster are retired with the swap.
     */
    public void moveIfIdle() {
        eventLoop().execute(() -> {
            if (state == State.READY && pump.moveIfIdle()) {
                flushAll();
            }
        });
    }

    // ---- Netty callbacks

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        channel = ctx.channel();
        proxy.metrics().connection();
        startup.armLoginTimeout(channel.eventLoop());
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (state == State.CLOSED) {
            io.netty.util.ReferenceCountUtil.release(msg);
            return;
        }
        if (msg instanceof StartupPacket packet) {
            if (state != State.STARTUP) {
                fatal(SqlState.PROTOCOL_VIOLATION, "unexpected startup packet");
                return;
            }
            startup.onStartupPacket(ctx, packet);
            return;
        }
        onMessages((ByteBuf) msg);
    }

    /**
     * Whole messages a read brought (one reference, owned here): password messages while authenticating,
     * one by one; then the message phase's, queued in the pump as they are. A message type outside the
     * message phase's is refused here rather than forwarded (the server would drop its connection, costing a
     * backend): the messages before it are still handled, as a server would.
     */
    private void onMessages(ByteBuf run) {
        while (state == State.AUTHENTICATING && run.isReadable()) {
            PgFrame frame = new PgFrame(run.getByte(run.readerIndex()), run.readRetainedSlice(run.getInt(run.readerIndex() + 1) + 1));
            try {
                startup.onPasswordMessage(frame);
            } finally {
                frame.release();
            }
        }
        if (state == State.CLOSED || !run.isReadable()) {
            run.release();
            return;
        }
        int at = run.readerIndex();
        int end = run.writerIndex();
        while (at < end && FrontendMessage.isMessagePhaseType((char) run.getByte(at))) {
            at += run.getInt(at + 1) + 1;
        }
        if (at == end) {
            pump.add(run);
            return;
        }
        char type = (char) run.getByte(at);
        if (at > run.readerIndex()) {
            pump.add(run.readRetainedSlice(at - run.readerIndex()));
        }
        run.release();
        if (state == State.CLOSED) {
            return;
        }
        proxy.metrics().protocolError();
        fatal(SqlState.PROTOCOL_VIOLATION, FrontendMessage.invalidTypeError(type));
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        flushAll();
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        if (handler != null) {
            handler.clientWritable(ctx.channel().isWritable());
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        close();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        Throwable root = cause instanceof DecoderException && cause.getCause() != null ? cause.getCause() : cause;
        if (root instanceof ProtocolException p) {
            LOG.info("closing client {}: {}", ctx.channel().remoteAddress(), root.getMessage());
            proxy.metrics().protocolError();
            if (p.silent()) {
                close();
            } else {
                fatal(p.sqlState(), root.getMessage());
            }
        } else if (root instanceof java.io.IOException) {
            LOG.debug("client {} connection error: {}", ctx.channel().remoteAddress(), root.toString());
            close();
        } else {
            LOG.warn("closing client {} after an internal error", ctx.channel().remoteAddress(), root);
            fatal(SqlState.INTERNAL_ERROR, "internal error in pgreshard proxy: " + root);
        }
    }

    // ---- startup phase (see ClientStartup)

    /**
     * A StartupMessage was accepted: the client logs in as {@code user} to {@code database}, with the
     * users.toml entry {@code login} (null for an unknown user, whose password exchange will fail).
     */
    void startupAccepted(Map<String, String> parameters, String user, String database, UserDirectory.Login login) {
        this.startupParameters = parameters;
        this.user = user;
        this.database = database;
        this.login = login;
        state = State.AUTHENTICATING;
    }

    /** A CancelRequest names this session: cancels its running query when the secret key matches. */
    void cancelRequested(int key) {
        if (key == secretKey) {
            eventLoop().execute(this::cancel);
        }
    }

    boolean loggingIn() {
        return state == State.STARTUP || state == State.AUTHENTICATING;
    }

    /** The connection carried a CancelRequest only (it never becomes a session). */
    void closeCancelConnection(ChannelHandlerContext ctx) {
        state = State.CLOSED;
        ctx.close();
    }

    /** The password exchange succeeded (AuthenticationOk is sent): registers the session and starts its handler. */
    void loggedIn() {
        processId = proxy.sessions().claimProcessId(this, proxy.random());
        secretKey = proxy.random().nextInt();
        proxy.metrics().login();
        countedAsClient = true;
        proxy.sessions().add(this);
        state = State.CONNECTING;
        if (database.equals(proxy.adminDatabase())) {
            handler = proxy.handlers().admin(this);
            handler.start(null);
            return;
        }
        RoutingTable.Route route = proxy.routing().route(database);
        handler = proxy.handlers().forRoute(this, route);
        handler.start(route);
    }

    /**
     * Called by the handler when the client may start: sends the server's parameters, our own
     * BackendKeyData (cancel requests come to us and are mapped to the backends' keys) and ReadyForQuery.
     */
    public void loginComplete(Map<String, String> serverParameters) {
        loginComplete(serverParameters, 0);
    }

    /**
     * As {@link #loginComplete(Map)}, announcing {@code serverProcessId} (the backend's pid, the lead shard's
     * with several) in BackendKeyData as PostgreSQL would: clients pass it to pg_terminate_backend and compare
     * it with pg_backend_pid(). Kept as our own random pid when another live session announced that pid (two
     * servers may share one); the secret key stays ours, so cancel requests are still checked here.
     */
    public void loginComplete(Map<String, String> serverParameters, int serverProcessId) {
        if (state != State.CONNECTING) {
            return;
        }
        processId = proxy.sessions().reclaimProcessId(this, processId, serverProcessId);
        serverParameters.forEach((k, v) -> channel.write(BackendMessages.parameterStatus(channel.alloc(), k, v)));
        channel.write(BackendMessages.backendKeyData(channel.alloc(), processId, secretKey));
        channel.write(BackendMessages.readyForQuery(channel.alloc(), 'I'));
        state = State.READY;
        pumpAndFlush();
    }

    // ---- message phase

    /** Feeds queued client messages to the handler (e.g. when a COPY lets the client's CopyData through). */
    public void pump() {
        pump.pump();
    }

    boolean isReady() {
        return state == State.READY;
    }

    /** The handler was replaced (a route change between one shard and several). */
    void replaceHandler(QueryHandler next) {
        handler = next;
    }

    /** A backend socket cannot take more: stop reading the client until it can. */
    public void backendWritable(boolean writable) {
        pump.backendWritable(writable);
    }

    /** Called by the handler when a request finished, so that parked input continues. */
    public void requestDone() {
        pumpAndFlush();
    }

    /** {@link #pump} at the end of a hand-off: what it handed on is flushed by the flush rule. */
    void pumpAndFlush() {
        pump();
        flushAll();
    }

    // ---- output and the flush rule

    /**
     * Where a session released by the pause gate spent its first moments (DEBUG, logger
     * dev.pgreshard.proxy.release): held how long, how long until its event loop ran it, until the first
     * answer to the client, until that was flushed. Found the CPU contention after swaps (2026-12-02).
     */
    private static final Logger RELEASE = LoggerFactory.getLogger("dev.pgreshard.proxy.release");
    private long releaseHeldSince;
    private long released;
    private long releasePicked;
    private long releaseFirstWrite;

    void traceRelease(long releasedAt, long heldSince) {
        if (!RELEASE.isDebugEnabled()) {
            return;
        }
        releaseHeldSince = heldSince;
        released = releasedAt;
        releasePicked = System.nanoTime();
        releaseFirstWrite = 0;
    }

    /** Writes a message to the client (ownership passes); it leaves at the next {@link #flushAll}. */
    public void write(ByteBuf message) {
        if (released != 0 && releaseFirstWrite == 0) {
            releaseFirstWrite = System.nanoTime();
        }
        channel.write(message, channel.voidPromise());
    }

    /**
     * The one flush rule of the message phase. Handlers, mergers and shard links only write (to the
     * client with {@link #write}, to servers with their connection's write); nothing reaches a socket
     * until this flushes the servers, then the client. It runs
     * <ul>
     * <li>at the end of every read burst, when everything that burst produced has been written: the
     * client's ({@link #channelReadComplete}) and any server's ({@link #backendReadComplete});</li>
     * <li>at the end of each hand-off that runs outside such a burst or may close the server whose burst
     * is running (a closed connection reports no read complete): {@link #loginComplete}, the pause gate's
     * release and {@link #requestDone}. A request released by the gate, or a pipelined request started
     * when the previous one finished, goes out here; without it the client could wait for ever for the
     * answer to messages it has already sent (RouteFlipStressTest).</li>
     * </ul>
     * So a burst costs one flush per socket however many messages it carried, and no write waits for an
     * unrelated event. Outside the message phase each message is answered and flushed on its own
     * (startup and authentication, a FATAL error before closing, a server connection's own login and
     * Terminate, a CancelRequest's connection).
     */
    public void flushAll() {
        if (handler != null) {
            handler.flushBackends();
        }
        if (channel != null) {
            channel.flush();
        }
        if (releaseFirstWrite != 0) {
            RELEASE.debug("session {}: held {} ms, run {} ms after the release, first answer written {} ms later, flushed {} ms later",
                    processId, (released - releaseHeldSince) / 1_000_000, (releasePicked - released) / 1_000_000,
                    (releaseFirstWrite - releasePicked) / 1_000_000, (System.nanoTime() - releaseFirstWrite) / 1_000_000);
            released = 0;
            releaseFirstWrite = 0;
        }
    }

    /** A server's read burst ended (called by handlers from their connections' read-complete events). */
    public void backendReadComplete() {
        flushAll();
    }

    public void writeError(String sqlState, String message) {
        write(BackendMessages.error(channel.alloc(), "ERROR", sqlState, message));
    }

    /** Sends a FATAL error and closes the connection (PostgreSQL's way to refuse or end a session). */
    public void fatal(String sqlState, String message) {
        if (state == State.CLOSED) {
            return;
        }
        if (channel != null && channel.isActive()) {
            channel.writeAndFlush(BackendMessages.error(channel.alloc(), "FATAL", sqlState, message))
                    .addListener(ChannelFutureListener.CLOSE);
        }
        close(false);
    }

    /**
     * Sends the server's own FATAL {@code lastMessage} (ownership passes) after everything written
     * before it, and closes: PostgreSQL's client reads exactly that and the end of the connection.
     */
    public void endWith(ByteBuf lastMessage) {
        if (state == State.CLOSED || channel == null || !channel.isActive()) {
            lastMessage.release();
            close();
            return;
        }
        channel.writeAndFlush(lastMessage).addListener(ChannelFutureListener.CLOSE);
        close(false);
    }

    private void cancel() {
        if (handler != null && state == State.READY) {
            handler.cancel();
        }
    }

    public void close() {
        close(true);
    }

    private void close(boolean closeChannel) {
        if (state == State.CLOSED) {
            return;
        }
        state = State.CLOSED;
        pump.close();
        warmUp.discard();
        proxy.sessions().remove(this);
        if (countedAsClient) {
            countedAsClient = false;
            proxy.metrics().logout();
        }
        if (handler != null) {
            handler.close();
        }
        if (closeChannel && channel != null && channel.isActive()) {
            channel.flush();
            channel.close();
        }
    }

    public boolean isClosed() {
        return state == State.CLOSED;
    }
}
