package dev.pgreshard.proxy.session;

import dev.pgreshard.proxy.ProxyContext;
import dev.pgreshard.proxy.admin.AdminHandler;
import dev.pgreshard.proxy.auth.AuthenticationFailure;
import dev.pgreshard.proxy.auth.ClientAuthExchange;
import dev.pgreshard.proxy.auth.UserDirectory;
import dev.pgreshard.proxy.protocol.BackendMessages;
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

import java.util.ArrayDeque;
import java.util.Map;

/**
 * One client connection: the startup phase (SSLRequest, GSSENCRequest, CancelRequest,
 * StartupMessage), password authentication, then the message phase, where client messages pass the
 * pause gate and the routing-epoch check at each transaction boundary before the {@link QueryHandler}
 * gets them. Everything runs on the channel's event loop. A protocol violation ends this connection
 * only; nothing a client sends can affect another session.
 */
public final class ClientSession extends ChannelInboundHandlerAdapter {
    private static final Logger LOG = LoggerFactory.getLogger(ClientSession.class);
    /** Above this many unprocessed client messages the socket stops being read (back-pressure). */
    private static final int INPUT_HIGH_WATER = 256;

    private enum State { STARTUP, AUTHENTICATING, CONNECTING, READY, CLOSED }

    private final ProxyContext proxy;
    private final PgFrameDecoder decoder;
    private final ArrayDeque<PgFrame> input = new ArrayDeque<>();
    private Channel channel;
    private State state = State.STARTUP;
    private Map<String, String> startupParameters;
    private String user;
    private volatile String database;
    private int processId;
    private int secretKey;
    private ClientAuthExchange auth;
    /** The users.toml entry the client logged in with (null until it did): who it is on the servers. */
    private UserDirectory.Login login;
    private QueryHandler handler;
    private boolean holding;
    private boolean backendBackpressure;
    private volatile boolean busy;
    /** System.nanoTime() when the gate parked this client's next transaction (for the hold histogram). */
    private long heldSince;
    private boolean countedAsClient;
    private final long connectedAt = System.currentTimeMillis();

    public ClientSession(ProxyContext proxy, PgFrameDecoder decoder) {
        this.proxy = proxy;
        this.decoder = decoder;
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
        return busy;
    }

    public boolean isHolding() {
        return holding;
    }

    /**
     * What keeps this session busy, for the log of a pause that does not drain (read off the event
     * loop: a snapshot that may be a moment old, good enough to tell a stuck session from a slow one).
     */
    public String describeBusy() {
        QueryHandler h = handler;
        return "session " + processId + " (client " + remoteAddress() + ", " + (h == null ? "no handler"
                : h.getClass().getSimpleName() + " epoch " + h.epoch() + ", idle " + h.idle() + ", awaiting answers "
                + h.awaitingAnswers() + ", between requests " + h.betweenRequests()) + ", " + input.size()
                + " client message(s) queued, holding " + holding + ")";
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

    // ---- Netty callbacks

    /** Like PostgreSQL's authentication_timeout: a client that does not finish logging in is dropped. */
    private static final long LOGIN_TIMEOUT_SECONDS = 60;

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        channel = ctx.channel();
        proxy.metrics().connection();
        channel.eventLoop().schedule(() -> {
            if (state == State.STARTUP || state == State.AUTHENTICATING) {
                fatal(SqlState.CANNOT_CONNECT, "canceling authentication due to timeout");
            }
        }, LOGIN_TIMEOUT_SECONDS, java.util.concurrent.TimeUnit.SECONDS);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (state == State.CLOSED) {
            io.netty.util.ReferenceCountUtil.release(msg);
            return;
        }
        if (msg instanceof StartupPacket packet) {
            onStartupPacket(ctx, packet);
            return;
        }
        PgFrame frame = (PgFrame) msg;
        if (state == State.AUTHENTICATING) {
            try {
                onAuthMessage(frame);
            } finally {
                frame.release();
            }
            return;
        }
        if (FRONTEND_TYPES.indexOf(frame.typeChar()) < 0) {
            // refused here rather than forwarded: the server would drop its connection, costing a backend
            char type = frame.typeChar();
            frame.release();
            proxy.metrics().protocolError();
            fatal(SqlState.PROTOCOL_VIOLATION, "invalid frontend message type '" + (type >= 32 && type < 127
                    ? String.valueOf(type) : String.format("\\x%02x", (int) type)) + "'; the proxy accepts the "
                    + "PostgreSQL 3.0 frontend messages " + FRONTEND_TYPES);
            return;
        }
        input.add(frame);
        pump();
    }

    /** Message-phase frontend types of protocol 3.0: Bind, Close, CopyData/Done/Fail, Describe, Execute, Flush, FunctionCall, Parse, Query, Sync, Terminate. */
    private static final String FRONTEND_TYPES = "BCdcfDEHFPQSX";

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        if (handler != null) {
            flushBackends();
        }
        ctx.flush();
    }

    private void flushBackends() {
        if (handler instanceof BackendFlusher f) {
            f.flushBackends();
        }
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

    // ---- startup phase

    private void onStartupPacket(ChannelHandlerContext ctx, StartupPacket packet) {
        if (state != State.STARTUP) {
            fatal(SqlState.PROTOCOL_VIOLATION, "unexpected startup packet");
            return;
        }
        if (packet instanceof StartupPacket.SslRequest) {
            if (proxy.sslContext() != null && ctx.pipeline().get("tls") == null) {
                ctx.writeAndFlush(ctx.alloc().buffer(1).writeByte('S'));
                ctx.pipeline().addFirst("tls", proxy.newTlsHandler(ctx.alloc()));
            } else {
                ctx.writeAndFlush(ctx.alloc().buffer(1).writeByte('N'));
            }
        } else if (packet instanceof StartupPacket.GssEncRequest) {
            ctx.writeAndFlush(ctx.alloc().buffer(1).writeByte('N'));
        } else if (packet instanceof StartupPacket.CancelRequest c) {
            ClientSession target = proxy.sessions().byProcessId(c.processId());
            if (target != null && target.secretKey == c.secretKey()) {
                target.eventLoop().execute(target::cancel);
            }
            state = State.CLOSED;
            ctx.close();
        } else if (packet instanceof StartupPacket.StartupMessage m) {
            onStartupMessage(ctx, m);
        }
    }

    private void onStartupMessage(ChannelHandlerContext ctx, StartupPacket.StartupMessage m) {
        startupParameters = m.parameters();
        user = m.user();
        String db = m.database();
        if (m.parameters().containsKey("replication")) {
            fatal(SqlState.FEATURE_NOT_SUPPORTED, "replication connections are not supported through the pgreshard proxy; "
                    + "connect to the server directly");
            return;
        }
        boolean admin = db.equals(proxy.adminDatabase());
        if (!admin && proxy.routing().route(db) == null) {
            fatal(SqlState.INVALID_CATALOG_NAME, "database \"" + db + "\" does not exist");
            return;
        }
        database = db;
        UserDirectory.Login entry = proxy.users().find(user, db).orElse(null);
        auth = new ClientAuthExchange(proxy.options().authMethod(), proxy.users(), user, entry, proxy.random());
        login = entry;
        state = State.AUTHENTICATING;
        ctx.writeAndFlush(auth.start(ctx.alloc()));
    }

    private void onAuthMessage(PgFrame frame) {
        if (frame.typeChar() != 'p') {
            fatal(SqlState.PROTOCOL_VIOLATION, "expected a password message, got '" + frame.typeChar() + "'");
            return;
        }
        ByteBuf reply;
        try {
            reply = auth.onPasswordMessage(frame.body(), channel.alloc());
        } catch (AuthenticationFailure e) {
            LOG.info("client {} failed to authenticate as {} to {}: {}", channel.remoteAddress(), user, database, e.getMessage());
            proxy.metrics().authenticationFailure();
            fatal(SqlState.INVALID_PASSWORD, "password authentication failed for user \"" + user + "\"");
            return;
        }
        if (reply != null) {
            channel.write(reply);
        }
        if (auth.done()) {
            channel.write(BackendMessages.authenticationOk(channel.alloc()));
            channel.flush();
            auth = null;
            loggedIn();
        } else {
            channel.flush();
        }
    }

    private void loggedIn() {
        do {
            processId = proxy.random().nextInt(Integer.MAX_VALUE - 1) + 1;
        } while (!proxy.sessions().claim(processId, this));
        secretKey = proxy.random().nextInt();
        proxy.metrics().login();
        countedAsClient = true;
        proxy.sessions().add(this);
        state = State.CONNECTING;
        if (database.equals(proxy.adminDatabase())) {
            handler = new AdminHandler(this);
            handler.start(null);
            return;
        }
        RoutingTable.Route route = proxy.routing().route(database);
        handler = route.cluster().shardCount() == 1 ? new PassThroughHandler(this) : new ShardedHandler(this);
        handler.start(route);
    }

    /**
     * Called by the handler when the client may start: sends the server's parameters, our own
     * BackendKeyData (cancel requests come to us and are mapped to the backends' keys) and ReadyForQuery.
     */
    public void loginComplete(Map<String, String> serverParameters) {
        if (state != State.CONNECTING) {
            return;
        }
        serverParameters.forEach((k, v) -> channel.write(BackendMessages.parameterStatus(channel.alloc(), k, v)));
        channel.write(BackendMessages.backendKeyData(channel.alloc(), processId, secretKey));
        channel.writeAndFlush(BackendMessages.readyForQuery(channel.alloc(), 'I'));
        state = State.READY;
        pumpAndFlush();
    }

    // ---- message phase

    /** Feeds queued client messages to the handler, stopping at the gate or when the handler is busy. */
    public void pump() {
        if (state != State.READY) {
            updateReading();
            return;
        }
        while (!input.isEmpty() && !holding && state == State.READY) {
            PgFrame next = input.peek();
            if (handler.blocked(next)) {
                break;
            }
            if (handler.awaitingAnswers() && handler.betweenRequests() && proxy.gate().isPaused(database)) {
                // a pipelined request may start a new transaction: wait for the answers, then decide at the gate
                break;
            }
            if (handler.idle() && next.type() != 'X') {
                // busy before asking the gate, the controller pauses before counting busy sessions: either this
                // session sees the pause, or the pause's in-flight count sees this session (both are volatile)
                busy = true;
                if (!proxy.gate().admit(database, this::releasedByGate)) {
                    busy = false;
                    holding = true;
                    heldSince = System.nanoTime();
                    proxy.metrics().holdStarted();
                    break;
                }
                RoutingTable.Route route = proxy.routing().route(database);
                if (route != null && route.epoch() != handler.epoch()) {
                    LOG.info("session {} moves {} to cluster {} (epoch {})", processId, database, route.cluster().name(), route.epoch());
                    switchRoute(route);
                }
            }
            input.poll();
            handler.handle(next);
        }
        busy = state == State.READY && handler != null && !handler.idle();
        updateReading();
    }

    /** Moves the client to {@code route}'s cluster; a change between one and several shards changes the handler. */
    private void switchRoute(RoutingTable.Route route) {
        // the old servers' sockets are closed with the switch: a "cannot take more" of theirs would never be lifted
        backendBackpressure = false;
        boolean sharded = route.cluster().shardCount() > 1;
        if (sharded == (handler instanceof ShardedHandler)) {
            handler.switchRoute(route);
            return;
        }
        QueryHandler old = handler;
        java.util.List<PgFrame> statements = old.takeStatements();
        java.util.List<String> settings = old.takeSettings();
        old.close();
        handler = sharded ? new ShardedHandler(this) : new PassThroughHandler(this);
        handler.adopt(route, statements, settings);
    }

    private void releasedByGate() {
        eventLoop().execute(() -> {
            if (holding && heldSince != 0) {
                proxy.metrics().holdEnded(database, System.nanoTime() - heldSince);
                heldSince = 0;
            }
            holding = false;
            pumpAndFlush();
        });
    }

    private void updateReading() {
        if (channel != null) {
            channel.config().setAutoRead(input.size() < INPUT_HIGH_WATER && !holding && !backendBackpressure);
        }
    }

    /** A backend socket cannot take more: stop reading the client until it can. */
    public void backendWritable(boolean writable) {
        backendBackpressure = !writable;
        updateReading();
    }

    /** Called by the handler when a request finished, so that parked input continues. */
    public void requestDone() {
        pumpAndFlush();
    }

    /**
     * {@link #pump} outside a client read: what it hands to the backends must be flushed here, since
     * no {@link #channelReadComplete} follows (the client may be waiting for the answer to exactly
     * these messages, e.g. a pipelined request held back while the gate was paused).
     */
    private void pumpAndFlush() {
        pump();
        if (handler != null && state == State.READY) {
            flushBackends();
        }
    }

    // ---- output to the client

    public void write(ByteBuf message) {
        channel.write(message, channel.voidPromise());
    }

    public void flush() {
        channel.flush();
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
        busy = false;
        proxy.sessions().remove(this);
        if (countedAsClient) {
            countedAsClient = false;
            proxy.metrics().logout();
        }
        if (heldSince != 0) {
            proxy.metrics().holdEnded(database, System.nanoTime() - heldSince);
            heldSince = 0;
        }
        input.forEach(PgFrame::release);
        input.clear();
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
