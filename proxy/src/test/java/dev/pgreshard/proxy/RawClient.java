package dev.pgreshard.proxy;

import dev.pgreshard.proxy.auth.Md5Password;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

/** A bare socket client speaking just enough protocol to log in (md5) and then send arbitrary bytes. */
final class RawClient implements AutoCloseable {
    final Socket socket;
    final DataOutputStream out;
    final DataInputStream in;

    RawClient(int port) throws IOException {
        socket = new Socket("127.0.0.1", port);
        socket.setSoTimeout(10_000);
        out = new DataOutputStream(socket.getOutputStream());
        in = new DataInputStream(socket.getInputStream());
    }

    void startup(String user, String database) throws IOException {
        byte[] params = ("user\0" + user + "\0database\0" + database + "\0\0").getBytes(StandardCharsets.UTF_8);
        out.writeInt(8 + params.length);
        out.writeInt(196608);
        out.write(params);
        out.flush();
    }

    /** Logs in with md5 (the proxy must run with AuthMethod.MD5) and reads up to the first ReadyForQuery. */
    void loginMd5(String user, String database, String password) throws IOException {
        startup(user, database);
        int type = in.readByte();
        int len = in.readInt();
        if (type != 'R' || in.readInt() != 5) {
            throw new IOException("expected an md5 request, got " + (char) type);
        }
        byte[] salt = in.readNBytes(4);
        byte[] pw = (Md5Password.encode(user, password, salt) + "\0").getBytes(StandardCharsets.US_ASCII);
        out.writeByte('p');
        out.writeInt(4 + pw.length);
        out.write(pw);
        out.flush();
        readUntilReady();
    }

    /** Reads messages until ReadyForQuery; returns the type of the first ErrorResponse seen, or 0. */
    char readUntilReady() throws IOException {
        char error = 0;
        while (true) {
            int type = in.readByte();
            int len = in.readInt();
            byte[] body = in.readNBytes(len - 4);
            if (type == 'E' && error == 0) {
                error = 'E';
            }
            if (type == 'Z') {
                return error;
            }
        }
    }

    /** Reads until the server closes; returns everything received. */
    byte[] readToEnd() throws IOException {
        InputStream s = socket.getInputStream();
        try {
            return s.readAllBytes();
        } catch (EOFException e) {
            return new byte[0];
        }
    }

    void query(String sql) throws IOException {
        byte[] b = (sql + "\0").getBytes(StandardCharsets.UTF_8);
        out.writeByte('Q');
        out.writeInt(4 + b.length);
        out.write(b);
        out.flush();
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
