package dev.pgreshard.proxy;

import dev.pgreshard.core.config.GeneralConfig;
import dev.pgreshard.core.config.PgReshardConfig;
import dev.pgreshard.proxy.admin.TaskCommands;
import dev.pgreshard.proxy.backend.Transport;
import dev.pgreshard.proxy.control.ControlServer;
import dev.pgreshard.proxy.protocol.PgFrameDecoder;
import dev.pgreshard.proxy.session.ClientSession;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.File;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The proxy process: the PostgreSQL data port ([general] host:port, admin database included) and the
 * HTTP control API ([general] control_bind:control_port). {@link #control()} is the in-process API for
 * pause, resume and routing swaps.
 */
public final class ProxyServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ProxyServer.class);

    private final ProxyContext context;
    private final ProxyControl control;
    private final EventLoopGroup boss;
    private final EventLoopGroup workers;
    private final Channel serverChannel;
    private final ControlServer controlServer;

    private ProxyServer(ProxyContext context, ProxyControl control, EventLoopGroup boss, EventLoopGroup workers,
                        Channel serverChannel, ControlServer controlServer) {
        this.context = context;
        this.control = control;
        this.boss = boss;
        this.workers = workers;
        this.serverChannel = serverChannel;
        this.controlServer = controlServer;
    }

    /** Binds the data port (and the control API unless disabled) and returns once both accept connections. */
    public static ProxyServer start(PgReshardConfig config, ProxyOptions options) {
        ProxyContext context = new ProxyContext(config, options, sslContext(config.general()), new QueryHandlers());
        EventLoopGroup boss = new MultiThreadIoEventLoopGroup(1, Transport.ioHandlerFactory());
        int loops = options.eventLoops() > 0 ? options.eventLoops() : defaultEventLoops(Runtime.getRuntime().availableProcessors());
        EventLoopGroup workers = new MultiThreadIoEventLoopGroup(loops, Transport.ioHandlerFactory());
        GeneralConfig g = config.general();
        Channel channel = null;
        try {
            ServerBootstrap b = Transport.configureChildren(new ServerBootstrap()).group(boss, workers)
                    .channel(Transport.serverChannel())
                    .option(ChannelOption.SO_BACKLOG, 1024)
                    .childOption(ChannelOption.TCP_NODELAY, true)
                    .childOption(ChannelOption.SO_KEEPALIVE, true)
                    .childOption(ChannelOption.WRITE_BUFFER_WATER_MARK, new WriteBufferWaterMark(256 * 1024, 1024 * 1024))
                    .childHandler(new ChannelInitializer<SocketChannel>() {
                        @Override
                        protected void initChannel(SocketChannel ch) {
                            PgFrameDecoder decoder = PgFrameDecoder.forClient(options.maxMessage());
                            ch.pipeline().addLast("frames", decoder).addLast("session", new ClientSession(context, decoder));
                        }
                    });
            // awaited, not sync()ed: sync() rethrows Netty's checked BindException undeclared, past any catch of ours
            ChannelFuture bound = b.bind(new InetSocketAddress(g.host(), g.port())).awaitUninterruptibly();
            if (!bound.isSuccess()) {
                Throwable cause = bound.cause();
                throw new IllegalStateException("cannot listen on " + g.host() + ":" + g.port() + " ([general] host, port in "
                        + config.source() + "): " + cause.getMessage() + (addressInUse(cause)
                        ? " — another process (perhaps another proxy) holds this address; stop it or set [general] port "
                        + "to a free port" : ""), cause);
            }
            channel = bound.channel();
            ControlServer controlServer = null;
            ProxyControl control = new ProxyControl(context);
            if (options.controlApi()) {
                controlServer = ControlServer.start(g.controlBind(), g.controlPort(), control, config.requireAdmin());
            }
            ProxyServer server = new ProxyServer(context, control, boss, workers, channel, controlServer);
            warmUpRouter(context);
            LOG.info("pgreshard proxy listening on {}:{} ({} event loops, {}){}", g.host(), g.port(), loops, Transport.describe(),
                    controlServer == null ? "" : ", control API on " + g.controlBind() + ":" + g.controlPort());
            return server;
        } catch (RuntimeException e) {
            if (channel != null) {
                channel.close().awaitUninterruptibly();
            }
            boss.shutdownGracefully(0, 1, TimeUnit.SECONDS);
            workers.shutdownGracefully(0, 1, TimeUnit.SECONDS);
            throw e instanceof IllegalStateException ? e : new IllegalStateException("cannot start the proxy on "
                    + g.host() + ":" + g.port() + ": " + e.getMessage(), e);
        }
    }

    /**
     * Event loops when {@code --threads} is 0: one per core, except on one or two cores, where a single loop
     * serves every session. The proxy then shares its cores with the database and the clients (a small box, a
     * sidecar); one loop finds more sockets ready per wake-up, and a wake-up (a context switch) is a large part
     * of what a relayed transaction costs the proxy (measured on 2 cores: 0.5–1.1 sleeps per transaction with
     * one loop, 0.9–1.3 with two, at equal or lower CPU per transaction). Netty's own default for 0 would be
     * two per core.
     */
    static int defaultEventLoops(int cores) {
        return cores <= 2 ? 1 : cores;
    }

    /** NIO reports a taken port as BindException, epoll as a NativeIoException "bind(..) failed: Address already in use". */
    private static boolean addressInUse(Throwable cause) {
        return cause instanceof BindException
                || String.valueOf(cause.getMessage()).toLowerCase(java.util.Locale.ROOT).contains("address already in use");
    }

    /**
     * Loads and compiles the SQL parser in the background at start. A single-shard database never
     * parses (pass-through), so without this the first transactions after a cutover to several
     * shards would pay the parser's class loading (measured: over half a second) on top of the pause.
     * Then, when a configured cluster has several shards (one a database may be switched to), the sharded
     * path's classes ({@link ShardedPathWarmUp}): loaded at the first switch's warm-up instead, they took the
     * proxy's CPU right before that switch's pause, when the clients' commits need it (bench/cutover,
     * 2026-12-03: the first warm switch 1.1–1.4 s, the proxy at 0.75 of a core, where later ones took 0.1–0.4 s).
     */
    private static void warmUpRouter(ProxyContext context) {
        boolean severalShards = context.routing().routes().stream().anyMatch(r -> r.cluster().shardCount() > 1);
        Thread t = new Thread(() -> {
            for (String sql : List.of("SELECT a FROM t WHERE k = $1", "INSERT INTO t (k, a) VALUES ($1, $2)",
                    "UPDATE t SET a = a + 1 WHERE k = $1 AND id = $2", "DELETE FROM t WHERE k IN (1, 2)",
                    "SELECT count(*) FROM t JOIN u ON u.k = t.k WHERE t.k = 'x' ORDER BY 1 LIMIT 5")) {
                try {
                    context.analyzer().analyze(sql);
                } catch (RuntimeException e) {
                    LOG.debug("router warm-up statement not understood: {}", e.getMessage());
                }
            }
            if (severalShards) {
                ShardedPathWarmUp.loadClasses();
            }
        }, "pgreshard-router-warm-up");
        t.setDaemon(true);
        t.start();
    }

    private static SslContext sslContext(GeneralConfig g) {
        if (g.tlsCertificate().isEmpty()) {
            return null;
        }
        try {
            return SslContextBuilder.forServer(new File(g.tlsCertificate()), new File(g.tlsPrivateKey())).build();
        } catch (Exception e) {
            throw new IllegalStateException("cannot load TLS certificate " + g.tlsCertificate() + " / key "
                    + g.tlsPrivateKey() + " ([general] tls_certificate, tls_private_key; the key must be PEM PKCS#8): "
                    + e.getMessage(), e);
        }
    }

    public ProxyControl control() {
        return control;
    }

    public ProxyContext context() {
        return context;
    }

    /** Binds the control store's two-phase commit decisions (see {@link ProxyContext#bindDecisionLog}). */
    public void bindDecisionLog(dev.pgreshard.proxy.twophase.DecisionLog decisions) {
        context.bindDecisionLog(decisions);
    }

    /** Binds the workflow client's task commands (RESHARD, SHOW TASKS, ...) to the admin database. */
    public void bindTaskCommands(TaskCommands commands) {
        context.bindTaskCommands(commands);
    }

    public int port() {
        return ((InetSocketAddress) serverChannel.localAddress()).getPort();
    }

    /** The bound port of the HTTP control API, or -1 when it is disabled. */
    public int controlPort() {
        return controlServer == null ? -1 : controlServer.port();
    }

    /** Blocks until the data port is closed (the `proxy` command's foreground wait). */
    public void awaitClose() {
        serverChannel.closeFuture().syncUninterruptibly();
    }

    @Override
    public void close() {
        control.close();
        if (controlServer != null) {
            controlServer.close();
        }
        serverChannel.close().syncUninterruptibly();
        context.sessions().sessions().forEach(s -> s.eventLoop().execute(s::close));
        context.idleServers().closeAll(2000); // queued behind the sessions' closes, which may hand connections over
        workers.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
        boss.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
        context.recovery().close();
        context.twoPhase().close();
    }
}
