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

/**
 * The socket transport of the proxy's event loops: Linux epoll when its native library loads, else
 * Java NIO. Epoll makes the pass-through path cheaper (no selector locks, gathering writes from
 * memory addresses instead of one ByteBuffer per message). Every channel of the proxy — clients,
 * servers, cancel requests — lives on the same event loops, so all take their classes from here;
 * {@code -Dpgreshard.proxy.transport=nio} forces NIO.
 */
public final class Transport {
    /** True when the proxy runs on epoll. */
    public static final boolean EPOLL = !"nio".equals(System.getProperty("pgreshard.proxy.transport")) && Epoll.isAvailable();

    private Transport() {
    }

    public static IoHandlerFactory ioHandlerFactory() {
        return EPOLL ? EpollIoHandler.newFactory() : NioIoHandler.newFactory();
    }

    public static Class<? extends ServerSocketChannel> serverChannel() {
        return EPOLL ? EpollServerSocketChannel.class : NioServerSocketChannel.class;
    }

    public static Class<? extends SocketChannel> socketChannel() {
        return EPOLL ? EpollSocketChannel.class : NioSocketChannel.class;
    }

    public static String describe() {
        return EPOLL ? "epoll" : "nio";
    }
}
