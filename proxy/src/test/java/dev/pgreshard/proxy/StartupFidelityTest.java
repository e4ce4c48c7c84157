package dev.pgreshard.proxy;

import dev.pgreshard.proxy.auth.AuthMethod;
import dev.pgreshard.testkit.PostgresExtension;
import dev.pgreshard.testkit.TestDatabase;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.params.provider.Arguments.arguments;

/**
 * The same raw bytes, sent before any login, to PostgreSQL directly and to the proxy: the replies
 * must be the same. A reply is compared byte for byte, except that an ErrorResponse is compared on
 * its severity, SQLSTATE and message only (PostgreSQL adds the source file, line and routine of the
 * ereport, which a proxy has no business imitating). "[open]" means the peer still held the
 * connection open after the wait; "[closed]" that it closed it.
 */
@ExtendWith(PostgresExtension.class)
class StartupFidelityTest {
    private static TestDatabase db;
    private static ProxyFixture proxy;

    @BeforeAll
    static void start() {
        db = dev.pgreshard.testkit.PostgresFixture.database("startupfidelity");
        proxy = new ProxyFixture().cluster(db.name(), db).options(ProxyOptions.DEFAULTS.withAuthMethod(AuthMethod.MD5)).start();
        try {
            exchange(proxy.port(), new Case(new byte[0], true)); // the proxy's first connection pays its class loading
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @AfterAll
    static void stop() {
        proxy.close();
    }

    /** @param hangUp the client half-closes after sending (PostgreSQL then sees end of input) */
    record Case(byte[] bytes, boolean hangUp) {
    }

    static Stream<Arguments> cases() {
        return Stream.of(
                arguments("Terminate before the StartupMessage", new Case(hex("5800000004"), false)),
                arguments("Terminate before the StartupMessage, then hang up", new Case(hex("5800000004"), true)),
                arguments("startup length of 2 GB", new Case(hex("7fffffff00030000"), false)),
                arguments("startup length 4 (no protocol word)", new Case(hex("00000004"), false)),
                arguments("startup length just over the limit (10005)", new Case(int32(10005, 196608), false)),
                arguments("two bytes of a length, then hang up", new Case(hex("0000"), true)),
                arguments("nothing, then hang up", new Case(new byte[0], true)),
                arguments("half a StartupMessage, then hang up", new Case(int32(40, 196608), true)),
                arguments("SSLRequest, then hang up", new Case(int32(8, 80877103), true)),
                arguments("GSSENCRequest, then hang up", new Case(int32(8, 80877104), true)),
                arguments("CancelRequest for no session", new Case(int32(16, 80877102, 12345, 67890), false)),
                arguments("CancelRequest of 8 bytes", new Case(int32(8, 80877102), false)),
                arguments("unsupported protocol 1000.7", new Case(int32(8, (1000 << 16) | 7), false)),
                arguments("unsupported protocol 2.0", new Case(startup("user\0x\0\0", 2 << 16), false)),
                arguments("StartupMessage without a user", new Case(startup("database\0" + "x\0\0"), false)));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void theProxyAnswersRawStartupBytesAsPostgresDoes(String why, Case c) throws Exception {
        String direct = exchange(db.server().port(), c);
        String proxied = exchange(proxy.port(), c);
        assertEquals(direct, proxied, why + ": PostgreSQL answered " + direct + ", the proxy " + proxied);
    }

    /** Sends the bytes and describes everything received until the peer closes or 3 s of silence. */
    private static String exchange(int port, Case c) throws IOException {
        try (Socket s = new Socket("127.0.0.1", port)) {
            s.setSoTimeout(3000);
            s.getOutputStream().write(c.bytes());
            s.getOutputStream().flush();
            if (c.hangUp()) {
                s.shutdownOutput();
            }
            ByteArrayOutputStream got = new ByteArrayOutputStream();
            InputStream in = s.getInputStream();
            String end;
            try {
                byte[] buf = new byte[4096];
                int n;
                while ((n = in.read(buf)) >= 0) {
                    got.write(buf, 0, n);
                }
                end = "[closed]";
            } catch (SocketTimeoutException e) {
                end = "[open]";
            } catch (java.net.SocketException e) {
                end = "[closed]"; // reset by the peer
            }
            return describe(got.toByteArray()) + end;
        }
    }

    /**
     * Single-byte answers ('S'/'N') as they are; a protocol-2 error ('E' and a string, no length) as
     * its text; messages as type + fields (ErrorResponse: S, V, C, M only).
     */
    private static String describe(byte[] bytes) {
        StringBuilder out = new StringBuilder();
        ByteBuffer b = ByteBuffer.wrap(bytes);
        if (b.remaining() == 1) {
            return "'" + (char) b.get() + "' ";
        }
        if (bytes.length > 1 && bytes[0] == 'E' && bytes[1] != 0 && bytes[bytes.length - 1] == 0
                && Character.isLetter(bytes[1])) {
            return "v2 E \"" + new String(bytes, 1, bytes.length - 2, StandardCharsets.UTF_8) + "\" ";
        }
        while (b.remaining() >= 5) {
            char type = (char) b.get();
            int len = b.getInt();
            byte[] body = new byte[Math.min(len - 4, b.remaining())];
            b.get(body);
            if (type == 'E' || type == 'N') {
                out.append(type).append('{');
                int i = 0;
                while (i < body.length && body[i] != 0) {
                    char code = (char) body[i++];
                    int endAt = i;
                    while (endAt < body.length && body[endAt] != 0) {
                        endAt++;
                    }
                    if ("SVCM".indexOf(code) >= 0) {
                        out.append(code).append('=').append(new String(body, i, endAt - i, StandardCharsets.UTF_8)).append(' ');
                    }
                    i = endAt + 1;
                }
                out.append("} ");
            } else {
                out.append(type).append(java.util.HexFormat.of().formatHex(body)).append(' ');
            }
        }
        if (b.hasRemaining()) {
            out.append("+").append(b.remaining()).append(" bytes ");
        }
        return out.toString();
    }

    private static byte[] hex(String h) {
        return java.util.HexFormat.of().parseHex(h);
    }

    private static byte[] int32(int... words) {
        ByteBuffer b = ByteBuffer.allocate(4 * words.length);
        for (int w : words) {
            b.putInt(w);
        }
        return b.array();
    }

    private static byte[] startup(String params) {
        return startup(params, 196608);
    }

    private static byte[] startup(String params, int protocol) {
        byte[] p = params.getBytes(StandardCharsets.UTF_8);
        return ByteBuffer.allocate(8 + p.length).putInt(8 + p.length).putInt(protocol).put(p).array();
    }
}
