package dev.pgreshard.proxy;

import dev.pgreshard.proxy.auth.AuthMethod;
import dev.pgreshard.testkit.PostgresExtension;
import dev.pgreshard.testkit.TestDatabase;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.HexFormat;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Pass-through relays the server's reads as they come and the client's messages as slices of its reads:
 * what a client receives must still be byte for byte what PostgreSQL itself sends, for a pipelined batch
 * of extended-protocol requests (one failing), rows of megabytes (split over many reads), a COPY out, and a
 * client that does not read for a while (the proxy must stop reading the server, not drop or reorder).
 */
@ExtendWith(PostgresExtension.class)
class RelayFidelityTest {
    /** Three requests in one write: a batch with a 3 MB row, a failing batch, a simple query ending in a COPY out. */
    private static byte[] pipeline() {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        extended(b, "SELECT $1::int AS n, repeat('x', 3000000) || $1 AS big", "42");
        extended(b, "SELECT * FROM no_such_table WHERE $1::int = 1", "1");
        message(b, 'Q', cstring("SELECT 1 AS one; COPY (SELECT g, repeat('z', 5000) FROM generate_series(1, 400) g) TO STDOUT"));
        return b.toByteArray();
    }

    @Test
    void pipelinedBatchesBigRowsAndCopyOutAreRelayedByteForByte(TestDatabase db) throws Exception {
        byte[] direct = run(db.server().port(), db.server().superuser(), db.name(), false, 0);
        try (ProxyFixture proxy = new ProxyFixture().cluster("prod", db)
                .options(ProxyOptions.DEFAULTS.withAuthMethod(AuthMethod.MD5)).start()) {
            byte[] relayed = run(proxy.port(), ProxyFixture.USER, "prod", true, 0);
            assertEquals(digest(direct), digest(relayed), "answer through the proxy (" + relayed.length + " bytes) vs direct ("
                    + direct.length + " bytes)");
            byte[] slowReader = run(proxy.port(), ProxyFixture.USER, "prod", true, 1500);
            assertArrayEquals(direct, slowReader, "a client that waits before reading gets the same bytes");
            // and the session is still in step: the next request gets its own answer
            try (RawClient c = new RawClient(proxy.port())) {
                c.loginMd5(ProxyFixture.USER, "prod", ProxyFixture.PASSWORD);
                c.out.write(pipeline());
                c.out.flush();
                readAnswers(c.in, 3);
                c.query("SELECT 7");
                assertEquals(0, c.readUntilReady());
            }
        }
    }

    /** Logs in, writes the pipeline in one go, waits {@code waitMs}, and returns every byte up to the third ReadyForQuery. */
    private static byte[] run(int port, String user, String database, boolean md5, long waitMs) throws Exception {
        try (RawClient c = new RawClient(port)) {
            if (md5) {
                c.loginMd5(user, database, ProxyFixture.PASSWORD);
            } else {
                c.startup(user, database);
                c.readUntilReady();
            }
            c.socket.setSoTimeout(60_000);
            c.out.write(pipeline());
            c.out.flush();
            Thread.sleep(waitMs);
            return readAnswers(c.in, 3);
        }
    }

    private static byte[] readAnswers(DataInputStream in, int readyCount) throws IOException {
        ByteArrayOutputStream all = new ByteArrayOutputStream();
        int ready = 0;
        while (ready < readyCount) {
            byte type = in.readByte();
            int length = in.readInt();
            byte[] body = in.readNBytes(length - 4);
            message(all, (char) type, body);
            if (type == 'Z') {
                ready++;
            }
        }
        return all.toByteArray();
    }

    private static void extended(ByteArrayOutputStream b, String sql, String param) {
        ByteArrayOutputStream parse = new ByteArrayOutputStream();
        parse.writeBytes(cstring(""));
        parse.writeBytes(cstring(sql));
        parse.writeBytes(new byte[] {0, 0});
        message(b, 'P', parse.toByteArray());
        ByteArrayOutputStream bind = new ByteArrayOutputStream();
        bind.writeBytes(cstring(""));
        bind.writeBytes(cstring(""));
        bind.writeBytes(new byte[] {0, 0, 0, 1});
        byte[] value = param.getBytes(StandardCharsets.UTF_8);
        bind.writeBytes(new byte[] {0, 0, 0, (byte) value.length});
        bind.writeBytes(value);
        bind.writeBytes(new byte[] {0, 0});
        message(b, 'B', bind.toByteArray());
        message(b, 'D', new byte[] {'P', 0});
        message(b, 'E', new byte[] {0, 0, 0, 0, 0});
        message(b, 'S', new byte[0]);
    }

    private static void message(ByteArrayOutputStream b, char type, byte[] body) {
        int length = body.length + 4;
        b.write(type);
        b.write(length >>> 24);
        b.write(length >>> 16);
        b.write(length >>> 8);
        b.write(length);
        b.writeBytes(body);
    }

    private static byte[] cstring(String s) {
        return (s + "\0").getBytes(StandardCharsets.UTF_8);
    }

    private static String digest(byte[] b) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
    }
}
