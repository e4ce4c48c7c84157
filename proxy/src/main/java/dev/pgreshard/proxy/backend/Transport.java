package dev.pgreshard.proxy.backend;

import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.ServerSocketChannel;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.channel.uring.IoUring;
import io.netty.channel.uring.IoUringAdaptiveBufferRingAllocator;
import io.netty.channel.uring.IoUringBufferRingConfig;
import io.netty.channel.uring.IoUringChannelOption;
import io.netty.channel.uring.IoUringIoHandler;
import io.netty.channel.uring.IoUringIoHandlerConfig;
import io.netty.channel.uring.IoUringServerSocketChannel;
import io.netty.channel.uring.IoUringSocketChannel;

import java.util.Locale;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/**
 * The socket transport of the proxy's event loops. Every channel of the proxy — clients, servers, cancel
 * requests — lives on the same event loops, so all take their classes from here.
 * <p>
 * By default Linux io_uring when the kernel offers it (Netty probes by setting up a ring, so a kernel
 * without it, or a container whose seccomp profile forbids it, falls through), else epoll when its native
 * library loads, else Java NIO. io_uring is first because the pass-through relay is almost all socket
 * reads and writes, which io_uring lets the event loop submit and reap together; measured:
 * ≈ 12 % less proxy CPU per relayed transaction than epoll against PgBouncer in the same runs (bench/proxy,
 * 2026-12-02; README). {@code -Dpgreshard.proxy.transport=io_uring|epoll|nio} asks for one; a transport
 * the machine lacks falls back the same way.
 * <p>
 * On io_uring every socket reads into buffers the event loop lends the kernel ahead of time (a provided-buffer
 * ring) with one multishot receive that stays armed: a read is then one completion, where it was a poll, a
 * buffer allocated and a receive submitted (less proxy CPU per relayed transaction: bench/proxy, README).
 * When the ring runs dry the socket keeps its data and the read is retried (Netty grows the ring up to
 * {@link #READ_RING_SIZE}).
 * {@code -Dpgreshard.proxy.readRing=false} reads as before.
 */
public final class Transport {
    /** The property that chooses the transport. */
    public static final String PROPERTY = "pgreshard.proxy.transport";

    /** Each transport's event-loop factory and channel classes: every channel must match its loop's kind. */
    enum Kind {
        IO_URING(Transport::ioUringHandlers, IoUringServerSocketChannel.class, IoUringSocketChannel.class),
        EPOLL(EpollIoHandler::newFactory, EpollServerSocketChannel.class, EpollSocketChannel.class),
        NIO(NioIoHandler::newFactory, NioServerSocketChannel.class, NioSocketChannel.class);

        private final Supplier<IoHandlerFactory> handlers;
        private final Class<? extends ServerSocketChannel> serverChannel;
        private final Class<? extends SocketChannel> socketChannel;

        Kind(Supplier<IoHandlerFactory> handlers, Class<? extends ServerSocketChannel> serverChannel,
             Class<? extends SocketChannel> socketChannel) {
            this.handlers = handlers;
            this.serverChannel = serverChannel;
            this.socketChannel = socketChannel;
        }
    }

    /** The property that turns the io_uring read ring off (true by default). */
    public static final String READ_RING_PROPERTY = "pgreshard.proxy.readRing";
    /**
     * Read once: the event loops' ring and the channels' buffer group must agree, and a connection being opened
     * is no place to parse a property.
     */
    private static final boolean READ_RING = Boolean.parseBoolean(System.getProperty(READ_RING_PROPERTY, "true"));
    /** The buffer group every socket of an event loop reads from. */
    private static final short READ_GROUP = 1;
    /** At most this many buffers per event loop lent to the kernel (a power of two), each sized by the reads seen. */
    static final short READ_RING_SIZE = 512;
    /** The buffers lent at first, and added at a time when the ring runs dry. */
    private static final int READ_RING_BATCH = 32;

    /** Chosen at first use (the first event loop made); every later channel must take the same kind. */
    private static volatile Kind chosen;

    private Transport() {
    }

    /** The transport in use; an unknown name in the property is refused here, at the proxy's start. */
    private static Kind kind() {
        Kind k = chosen;
        if (k == null) {
            k = choose(System.getProperty(PROPERTY, "io_uring"), IoUring::isAvailable, Epoll::isAvailable);
            chosen = k;
        }
        return k;
    }

    /**
     * The transport to use when {@code wanted} is asked for; the machine is probed only for what may be used
     * (asking for nio loads no native library).
     */
    static Kind choose(String wanted, BooleanSupplier ioUring, BooleanSupplier epoll) {
        Kind asked = switch (wanted.trim().toLowerCase(Locale.ROOT)) {
            case "io_uring", "iouring" -> Kind.IO_URING;
            case "epoll" -> Kind.EPOLL;
            case "nio" -> Kind.NIO;
            default -> throw new IllegalArgumentException("-D" + PROPERTY + "=" + wanted
                    + " is not a transport the proxy knows; use io_uring, epoll or nio (or leave it unset)");
        };
        if (asked == Kind.IO_URING && !ioUring.getAsBoolean()) {
            asked = Kind.EPOLL;
        }
        if (asked == Kind.EPOLL && !epoll.getAsBoolean()) {
            asked = Kind.NIO;
        }
        return asked;
    }

    private static IoHandlerFactory ioUringHandlers() {
        IoUringIoHandlerConfig config = new IoUringIoHandlerConfig();
        if (READ_RING) {
            config.setBufferRingConfig(IoUringBufferRingConfig.builder().bufferGroupId(READ_GROUP)
                    .bufferRingSize(READ_RING_SIZE).batchSize(READ_RING_BATCH)
                    .allocator(new IoUringAdaptiveBufferRingAllocator()).build());
        }
        return IoUringIoHandler.newFactory(config);
    }

    /** Options every connection the proxy opens to a server needs on this transport. */
    public static Bootstrap configure(Bootstrap bootstrap) {
        if (READ_RING && kind() == Kind.IO_URING) {
            bootstrap.option(IoUringChannelOption.IO_URING_BUFFER_GROUP_ID, READ_GROUP);
        }
        return bootstrap;
    }

    /** Options every accepted client connection needs on this transport. */
    public static ServerBootstrap configureChildren(ServerBootstrap bootstrap) {
        if (READ_RING && kind() == Kind.IO_URING) {
            bootstrap.childOption(IoUringChannelOption.IO_URING_BUFFER_GROUP_ID, READ_GROUP);
        }
        return bootstrap;
    }

    public static IoHandlerFactory ioHandlerFactory() {
        return kind().handlers.get();
    }

    public static Class<? extends ServerSocketChannel> serverChannel() {
        return kind().serverChannel;
    }

    public static Class<? extends SocketChannel> socketChannel() {
        return kind().socketChannel;
    }

    /** The transport's name as the start-up log line shows it: io_uring, epoll or nio. */
    public static String describe() {
        return kind().name().toLowerCase(Locale.ROOT);
    }
}
