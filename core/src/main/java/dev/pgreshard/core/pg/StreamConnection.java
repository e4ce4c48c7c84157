package dev.pgreshard.core.pg;

import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.sql.Connection;
import java.sql.SQLException;

/**
 * A logical replication connection together with its socket, so the reader can tell "the walsender
 * has sent nothing more yet" (the kernel holds no unread bytes) from "more is already here".
 */
public final class StreamConnection implements AutoCloseable {
    private final Connection connection;
    private final InputStream socketInput;

    StreamConnection(Connection connection, Socket socket) throws SQLException {
        this.connection = connection;
        try {
            this.socketInput = socket == null ? null : socket.getInputStream();
        } catch (IOException e) {
            connection.close();
            throw new SQLException("replication connection: cannot read its socket: " + e.getMessage(), "08006", e);
        }
    }

    public Connection connection() {
        return connection;
    }

    /**
     * True when the kernel holds no unread bytes of this connection (bytes PgJDBC already buffered
     * are not counted). False when unknown.
     */
    public boolean socketDrained() {
        if (socketInput == null) {
            return false;
        }
        try {
            return socketInput.available() == 0;
        } catch (IOException e) {
            return false;   // the next read reports the broken connection
        }
    }

    @Override
    public void close() throws SQLException {
        connection.close();
    }
}
