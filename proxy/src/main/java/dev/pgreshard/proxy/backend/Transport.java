package dev.pgreshard.proxy.backend;

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
import io.netty.channel.uring.IoUringIoHandler;
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
 */
public final class Transport {
    /** The property that chooses the transport. */
    public static final String PROPERTY = "pgreshard.proxy.transport";

    /** Each transport's event-loop factory and channel classes: every channel must match its loop's kind. */
    enum Kind {
        IO_URING(IoUringIoHandler::newFactory, IoUringServerSocketChannel.class, IoUringSocketChannel.class),
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
