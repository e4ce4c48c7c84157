package dev.pgreshard.proxy.backend;

import dev.pgreshard.core.config.Credentials;
import dev.pgreshard.core.topology.Shard;
import dev.pgreshard.proxy.auth.AuthenticationFailure;
import dev.pgreshard.proxy.auth.BackendLogin;
import dev.pgreshard.proxy.protocol.FrontendMessages;
import dev.pgreshard.proxy.protocol.PgFrame;
import dev.pgreshard.proxy.protocol.PgFrameDecoder;
import dev.pgreshard.proxy.protocol.RelayedBytes;
import dev.pgreshard.proxy.protocol.ServerMessages;
import dev.pgreshard.proxy.protocol.ServerStreamDecoder;
import dev.pgreshard.proxy.protocol.SqlState;
import dev.pgreshard.proxy.protocol.Wire;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayDeque;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One server connection to one shard, owned by one client session and living on that session's
 * event loop (so session state needs no locks). Logs in with the credentials its session gives (the
 * client's own users.toml entry); writes made before the login finished are queued and sent, in
 * order, once it has. A FATAL the server sends after login ends the connection without a failure.
 */
public final class BackendConnection {
    private static final Logger LOG = LoggerFactory.getLogger(BackendConnection.class);
    private static final int CONNECT_TIMEOUT_MS = 10_000;

    private final Shard shard;
    /** Who hears this connection; changes once when a connection opened ahead of a switch is taken over ({@link #listenTo}). */
    private BackendListener listener;
    private final Map<String, String> parameters = new LinkedHashMap<>();
    private final ArrayDeque<ByteBuf> queued = new ArrayDeque<>();
    private Channel channel;
    /** Splits the server's stream; set when the channel is initialised. */
    private ServerStreamDecoder decoder;
    /** The listener wants {@link RelayedBytes} rather than frames once logged in (see {@link #relay}). */
    private boolean relayWanted;
    private boolean ready;
    private boolean closed;
    /** The server sent a FATAL of its own after login: its closing the connection is no failure of ours. */
    private boolean endedByServer;
    private int processId;
    private int secretKey;
    /** What another session's connection must match to be reused for this one ({@link IdleServerConnections}). */
    private final LoginKey loginKey;

    private BackendConnection(Shard shard, LoginKey loginKey, BackendListener listener) {
        this.shard = shard;
        this.loginKey = loginKey;
        this.listener = listener;
    }

    /**
     * Everything a login sends the server: where, as whom, with which password and startup parameters.
     * Two connections with equal keys are interchangeable once reset (DISCARD ALL).
     */
    public record LoginKey(String host, int port, String database, Credentials credentials, Map<String, String> parameters) {
        public LoginKey {
            parameters = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(parameters)); // in the client's order
        }
    }

    /**
     * The login to {@code shard} as {@code credentials} with the client's startup parameters ({@code application_name},
     * {@code client_encoding}, ...): all but {@code user} and {@code database} (ours replace them) and
     * {@code replication} (refused).
     */
    public static LoginKey loginKey(Shard shard, Credentials credentials, Map<String, String> clientParameters) {
        Map<String, String> params = new LinkedHashMap<>(clientParameters);
        params.remove("replication");
        return new LoginKey(shard.host(), shard.port(), shard.databaseName(), credentials, params);
    }

    /** Connects to {@code shard} on {@code loop} and logs in with {@code credentials} and the client's startup parameters. */
    public static BackendConnection open(EventLoop loop, Shard shard, Credentials credentials,
                                         Map<String, String> clientParameters, int maxMessage, BackendListener listener) {
        return open(loop, shard, loginKey(shard, credentials, clientParameters), maxMessage, listener);
    }

    /** Connects to {@code shard} on {@code loop} and logs in as {@code key} says (see {@link #loginKey}). */
    public static BackendConnection open(EventLoop loop, Shard shard, LoginKey key, int maxMessage, BackendListener listener) {
        BackendConnection b = new BackendConnection(shard, key, listener);
        BackendLogin login = new BackendLogin(key.credentials());
        Bootstrap bootstrap = Transport.configure(new Bootstrap()).group(loop).channel(Transport.socketChannel())
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.SO_KEEPALIVE, true)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, CONNECT_TIMEOUT_MS)
                .handler(new io.netty.channel.ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        // the server is trusted: accept what PostgreSQL itself may send (a 1 GB field plus framing)
                        b.decoder = new ServerStreamDecoder(PgFrameDecoder.MAX_SERVER_MESSAGE);
                        ch.pipeline().addLast(b.decoder, b.new Handler(login));
                    }
                });
        bootstrap.connect(shard.host(), shard.port()).addListener((ChannelFutureListener) f -> {
            if (!f.isSuccess()) {
                b.fail(SqlState.CANNOT_CONNECT, "cannot connect to " + shard.describe() + ": " + f.cause().getMessage());
                return;
            }
            b.channel = f.channel();
            if (b.closed) {
                b.channel.close();
                return;
            }
            b.channel.writeAndFlush(FrontendMessages.startup(b.channel.alloc(), key.credentials().user(), key.database(),
                    key.parameters()));
        });
        return b;
    }

    public Shard shard() {
        return shard;
    }

    public LoginKey loginKey() {
        return loginKey;
    }

    /**
     * From now on {@code next} hears this connection: a connection opened and prepared ahead of a
     * cutover ({@link WarmConnections}) is handed to the handler that serves the new route. Event loop only.
     */
    public void listenTo(BackendListener next) {
        this.listener = next;
    }

    public boolean isClosed() {
        return closed;
    }

    /** Completes when the socket is closed (at once if it never opened). */
    public io.netty.util.concurrent.Future<Void> closeFuture() {
        return channel == null ? io.netty.util.concurrent.ImmediateEventExecutor.INSTANCE.newSucceededFuture(null)
                : channel.closeFuture();
    }

    public boolean isReady() {
        return ready;
    }

    public Map<String, String> parameters() {
        return parameters;
    }

    public int processId() {
        return processId;
    }

    public int secretKey() {
        return secretKey;
    }

    /** Writes a whole message (ownership passes); queued until the login finished. Call {@link #flush()} after. */
    public void write(ByteBuf message) {
        if (closed) {
            message.release();
            return;
        }
        if (!ready) {
            queued.add(message);
            return;
        }
        if (!channel.isActive()) {
            // closed under us (the server's EOF, a reset) and channelInactive, which Netty runs as a later task,
            // has not said so yet: it will, with the reason. Written anyway, the void promise would fire a
            // message-less ClosedChannelException first ("failed: null", seen in CI's RouteFlipStressTest)
            message.release();
            return;
        }
        channel.write(message, channel.voidPromise());
    }

    public void flush() {
        if (ready && channel != null) {
            channel.flush();
        }
    }

    public boolean isWritable() {
        return channel == null || channel.isWritable();
    }

    /**
     * After login, hand the listener what the server sends as {@link RelayedBytes} (on) or as one PgFrame
     * per message (off, the default); takes effect from the next message. Event loop only.
     */
    public void relay(boolean on) {
        relayWanted = on;
        if (ready && decoder != null) {
            decoder.relay(on);
        }
    }

    public void setAutoRead(boolean autoRead) {
        if (channel != null) {
            channel.config().setAutoRead(autoRead);
        }
    }

    /** Sends Terminate and closes; no further callbacks. */
    public void close() {
        end(0);
    }

    /**
     * A connection to the cluster a switch moved away from, idle at a transaction boundary: no callbacks
     * from now on (what was written to it leaves now), but the Terminate goes out only {@link #RETIRE_AFTER_MS}
     * to twice that later. A server process's exit costs it several milliseconds of CPU (unmapping its shared
     * memory); a swap retires a connection per session and shard at once, and on a host that also serves the
     * new cluster (shards beside the source, a small machine) those exits competed with the resumed clients'
     * first transactions exactly when they were felt (bench/cutover, 2026-12-02: a quarter or more of
     * PostgreSQL's CPU in the 250 ms around a swap was process exit). Spread over a second and out of that
     * window, they cost nobody a wait.
     */
    public void retire() {
        end(RETIRE_AFTER_MS + java.util.concurrent.ThreadLocalRandom.current().nextLong(RETIRE_AFTER_MS));
    }

    private void end(long terminateAfterMs) {
        if (closed) {
            return;
        }
        closed = true;
        queued.forEach(ByteBuf::release);
        queued.clear();
        if (channel == null || !channel.isActive()) {
            return;
        }
        if (terminateAfterMs == 0) {
            terminate();
        } else {
            channel.flush();
            channel.eventLoop().schedule(this::terminate, terminateAfterMs, java.util.concurrent.TimeUnit.MILLISECONDS);
        }
    }

    private void terminate() {
        if (channel.isActive()) {
            channel.writeAndFlush(FrontendMessages.terminate(channel.alloc())).addListener(ChannelFutureListener.CLOSE);
        }
    }

    /** The least delay of {@link #retire}: past the resumed clients' first transactions. */
    static final long RETIRE_AFTER_MS = 1000;

    private void fail(String sqlState, String message) {
        if (closed) {
            return;
        }
        closed = true;
        queued.forEach(ByteBuf::release);
        queued.clear();
        if (channel != null) {
            channel.close();
        }
        listener.onBackendFailure(this, sqlState, message);
    }

    private final class Handler extends ChannelInboundHandlerAdapter {
        private final BackendLogin login;

        Handler(BackendLogin login) {
            this.login = login;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (msg instanceof RelayedBytes bytes) {
                if (closed) {
                    bytes.release();
                    return;
                }
                try {
                    listener.onBackendBytes(BackendConnection.this, bytes);
                } catch (RuntimeException | Error e) {
                    internalError(e);
                }
                return;
            }
            PgFrame frame = (PgFrame) msg;
            if (closed) {
                frame.release();
                return;
            }
            if (ready) {
                if (ServerMessages.endsSession(frame)) {
                    endedByServer = true;
                    closed = true;
                    queued.forEach(ByteBuf::release);
                    queued.clear();
                    listener.onBackendEnded(BackendConnection.this, frame);
                    return;
                }
                try {
                    listener.onBackendMessage(BackendConnection.this, frame);
                } catch (RuntimeException | Error e) {
                    internalError(e);
                }
                return;
            }
            try {
                onLoginMessage(ctx, frame);
            } finally {
                frame.release();
            }
        }

        /**
         * A fault of the proxy's own while it acted on the answer (it may have run the client's next
         * request): not a failure of this connection, and its stack is what finds the fault.
         */
        private void internalError(Throwable e) {
            LOG.error("internal error of the proxy acting on a message from {}", shard.describe(), e);
            fail(SqlState.INTERNAL_ERROR, "internal error of the proxy acting on an answer of "
                    + shard.describe() + ": " + e);
        }

        private void onLoginMessage(ChannelHandlerContext ctx, PgFrame frame) {
            switch (frame.typeChar()) {
                case 'R' -> {
                    try {
                        ByteBuf answer = login.onRequest(frame.body(), ctx.alloc());
                        if (answer != null) {
                            ctx.writeAndFlush(answer);
                        }
                    } catch (AuthenticationFailure e) {
                        fail(SqlState.CANNOT_CONNECT, "cannot log in to " + shard.describe() + ": " + e.getMessage());
                    }
                }
                case 'S' -> {
                    ByteBuf body = frame.body();
                    parameters.put(Wire.readCString(body), Wire.readCString(body));
                }
                case 'K' -> {
                    processId = frame.body().getInt(0);
                    secretKey = frame.body().getInt(4);
                }
                case 'E' -> fail(ServerMessages.fields(frame).getOrDefault('C', SqlState.CANNOT_CONNECT),
                        "cannot log in to " + shard.describe() + ": " + ServerMessages.fields(frame).get('M'));
                case 'N' -> LOG.debug("notice from {} during login: {}", shard.describe(), ServerMessages.describeError(frame));
                case 'Z' -> {
                    ready = true;
                    decoder.relay(relayWanted);
                    while (!queued.isEmpty()) {
                        channel.write(queued.poll(), channel.voidPromise());
                    }
                    listener.onBackendReady(BackendConnection.this);
                    channel.flush();
                }
                default -> fail(SqlState.PROTOCOL_VIOLATION, "unexpected message '" + frame.typeChar() + "' from "
                        + shard.describe() + " during login");
            }
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            if (ready && !closed) {
                listener.onBackendReadComplete(BackendConnection.this);
            }
        }

        @Override
        public void channelWritabilityChanged(ChannelHandlerContext ctx) {
            if (!closed) {
                listener.onBackendWritabilityChanged(BackendConnection.this, ctx.channel().isWritable());
            }
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            fail(SqlState.CONNECTION_FAILURE, "the connection to " + shard.describe() + " was closed by the server");
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            if (cause instanceof java.nio.channels.ClosedChannelException && !ctx.channel().isActive()) {
                // a write raced the close (see write): channelInactive reports the closed connection, so a second,
                // vaguer failure is not reported ahead of it
                LOG.debug("write to closed connection to {}", shard.describe(), cause);
                return;
            }
            // Netty's exceptions may carry no message (a write to a channel closed under it): name the class and
            // the cause that closed it, and keep the stack for whoever must find out why
            LOG.warn("connection to {} failed", shard.describe(), cause);
            fail(SqlState.CONNECTION_FAILURE, "connection to " + shard.describe() + " failed: " + describe(cause));
        }
    }

    /** An exception as an operator can read it: its message, else its class; with the causes behind it. */
    static String describe(Throwable t) {
        StringBuilder b = new StringBuilder();
        for (Throwable c = t; c != null && b.length() < 500; c = c.getCause()) {
            b.append(b.length() == 0 ? "" : ", caused by ")
                    .append(c.getMessage() != null ? c.getMessage() : c.getClass().getSimpleName());
            if (c.getCause() == c) {
                break;
            }
        }
        return b.toString();
    }
}
