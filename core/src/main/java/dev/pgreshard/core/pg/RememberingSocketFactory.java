package dev.pgreshard.core.pg;

import javax.net.SocketFactory;
import java.net.InetAddress;
import java.net.Socket;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A socket factory for PgJDBC ({@code socketFactory} property) that hands the plain socket of one
 * connection back to pgreshard, so a replication reader can ask the kernel whether more bytes are
 * waiting ({@link java.io.InputStream#available()} on the socket) without reading them. PgJDBC makes a
 * factory per connection from the connection's properties; {@link #TOKEN} in them names the socket.
 */
public final class RememberingSocketFactory extends SocketFactory {
    /** Connection property naming the socket this connection's factory makes; set by {@link PgConnector}. */
    static final String TOKEN = "pgreshard.socketToken";
    private static final Map<String, Socket> MADE = new ConcurrentHashMap<>();

    private final String token;

    /** Called by PgJDBC (reflectively) with the connection's properties. */
    public RememberingSocketFactory(Properties info) {
        this.token = info.getProperty(TOKEN);
    }

    /** The socket made for {@code token}, forgotten here once taken; null when none was made. */
    static Socket take(String token) {
        return MADE.remove(token);
    }

    /** PgJDBC makes its socket unconnected and connects it itself, so this is the method it calls. */
    @Override
    public Socket createSocket() {
        Socket socket = new Socket();
        if (token != null) {
            MADE.put(token, socket);
        }
        return socket;
    }

    @Override
    public Socket createSocket(String host, int port) {
        throw unconnectedOnly();
    }

    @Override
    public Socket createSocket(String host, int port, InetAddress localHost, int localPort) {
        throw unconnectedOnly();
    }

    @Override
    public Socket createSocket(InetAddress host, int port) {
        throw unconnectedOnly();
    }

    @Override
    public Socket createSocket(InetAddress address, int port, InetAddress localAddress, int localPort) {
        throw unconnectedOnly();
    }

    private static UnsupportedOperationException unconnectedOnly() {
        return new UnsupportedOperationException("RememberingSocketFactory makes unconnected sockets only (PgJDBC's way)");
    }
}
