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

import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.Statement;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.params.provider.Arguments.arguments;

/**
 * The wire-protocol rows of the bad-input matrix (README "Bad input"): each malformed input gets a
 * FATAL ErrorResponse whose SQLSTATE and message name what was wrong, the connection is closed, the
 * proxy keeps serving, and no client session is left behind. (Startup bytes that PostgreSQL answers by
 * closing without a word, e.g. an invalid startup length, are in {@link StartupFidelityTest}.)
 */
@ExtendWith(PostgresExtension.class)
class WireProtocolBadInputTest {
    private static ProxyFixture proxy;

    /** What a bad client sends (after connecting) — the test then reads the proxy's answer. */
    interface Abuse {
        void send(RawClient c) throws IOException;
    }

    @BeforeAll
    static void start() {
        TestDatabase db = dev.pgreshard.testkit.PostgresFixture.database("wirebad");
        proxy = new ProxyFixture().cluster("prod", db).options(ProxyOptions.DEFAULTS.withAuthMethod(AuthMethod.MD5)).start();
    }

    @AfterAll
    static void stop() {
        proxy.close();
    }

    static Stream<Arguments> cases() {
        return Stream.of(
                arguments("garbage startup packet (bogus protocol version)", "0A000",
                        "unsupported frontend protocol 18245.21536: server supports 3.0 to 3.0",
                        (Abuse) c -> {
                            c.out.writeInt(16);
                            c.out.write("GET / HTTP/1.1\r\n".getBytes(StandardCharsets.US_ASCII), 0, 12);
                        }),
                arguments("startup packet without a user", "28000", "no PostgreSQL user name specified",
                        (Abuse) c -> {
                            byte[] params = "database\0prod\0\0".getBytes(StandardCharsets.UTF_8);
                            c.out.writeInt(8 + params.length);
                            c.out.writeInt(196608);
                            c.out.write(params);
                        }),
                arguments("unknown database", "3D000", "database \"nope\" does not exist",
                        (Abuse) c -> c.startup(ProxyFixture.USER, "nope")),
                arguments("replication connection", "0A000", "replication connections are not supported",
                        (Abuse) c -> {
                            byte[] params = ("user\0" + ProxyFixture.USER + "\0database\0prod\0replication\0database\0\0")
                                    .getBytes(StandardCharsets.UTF_8);
                            c.out.writeInt(8 + params.length);
                            c.out.writeInt(196608);
                            c.out.write(params);
                        }),
                arguments("wrong password", "28P01", "password authentication failed for user \"app\"",
                        (Abuse) c -> {
                            c.startup(ProxyFixture.USER, "prod");
                            Message md5 = readMessage(c.in);
                            byte[] salt = java.util.Arrays.copyOfRange(md5.body, 4, 8);
                            byte[] pw = (dev.pgreshard.proxy.auth.Md5Password.encode(ProxyFixture.USER, "not the password",
                                    salt) + "\0").getBytes(StandardCharsets.US_ASCII);
                            c.out.writeByte('p');
                            c.out.writeInt(4 + pw.length);
                            c.out.write(pw);
                        }),
                arguments("query message claiming 2 GB", "08P01",
                        "invalid message length 2147483647 for message type 'Q' (limit 67108864 bytes)",
                        (Abuse) c -> {
                            c.loginMd5(ProxyFixture.USER, "prod", ProxyFixture.PASSWORD);
                            c.out.writeByte('Q');
                            c.out.writeInt(Integer.MAX_VALUE);
                        }),
                arguments("negative message length", "08P01", "invalid message length -5 for message type 'B'",
                        (Abuse) c -> {
                            c.loginMd5(ProxyFixture.USER, "prod", ProxyFixture.PASSWORD);
                            c.out.writeByte('B');
                            c.out.writeInt(-5);
                        }),
                arguments("unknown message type", "08P01", "invalid frontend message type 'y'",
                        (Abuse) c -> {
                            c.loginMd5(ProxyFixture.USER, "prod", ProxyFixture.PASSWORD);
                            c.out.writeByte('y');
                            c.out.writeInt(4);
                        }),
                arguments("password message that is not one", "08P01", "expected a password message, got 'Q'",
                        (Abuse) c -> {
                            c.startup(ProxyFixture.USER, "prod");
                            readMessage(c.in); // the md5 request
                            c.query("SELECT 1");
                        }));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void answeredWithAClearErrorAndTheProxyStaysUp(String why, String sqlState, String message, Abuse abuse)
            throws Exception {
        Map<Character, String> error;
        try (RawClient c = new RawClient(proxy.port())) {
            abuse.send(c);
            c.out.flush();
            error = readUntilError(c.in);
            assertEquals(-1, c.in.read(), "the proxy closes the connection after a FATAL error");
        }
        assertEquals("FATAL", error.get('S'), why + ": " + error);
        assertEquals(sqlState, error.get('C'), why + ": " + error);
        assertTrue(error.get('M').contains(message), why + ": expected «" + message + "» in «" + error.get('M') + "»");
        assertProxyServesAndHoldsNoStaleSession();
    }

    @org.junit.jupiter.api.Test
    void aTruncatedMessageAndAHangUpLeaveNothingBehind() throws Exception {
        try (RawClient c = new RawClient(proxy.port())) {
            c.loginMd5(ProxyFixture.USER, "prod", ProxyFixture.PASSWORD);
            c.out.writeByte('P');
            c.out.writeInt(1000);
            c.out.write("s1\0SELECT".getBytes(StandardCharsets.UTF_8));
            c.out.flush();
        } // hang up mid-message
        assertProxyServesAndHoldsNoStaleSession();
    }

    /** A normal client still works, and only it is listed by SHOW CLIENTS (the bad one's session was closed). */
    private static void assertProxyServesAndHoldsNoStaleSession() throws Exception {
        long deadline = System.nanoTime() + 10_000_000_000L;
        try (Connection good = proxy.connect("prod"); Connection admin = proxy.connectAdmin();
             Statement s = admin.createStatement()) {
            assertEquals(7, PassThroughTest.count(good, "SELECT 7"));
            int clients;
            do {
                clients = AdminDatabaseTest.rows(s, "SHOW CLIENTS").size();
                if (clients == 2) {
                    return;
                }
                Thread.sleep(50);
            } while (System.nanoTime() < deadline);
            throw new AssertionError("SHOW CLIENTS lists " + clients + " sessions; expected only the two test clients");
        }
    }

    /** Skips non-error messages (e.g. the md5 request) until an ErrorResponse; returns its fields. */
    private static Map<Character, String> readUntilError(DataInputStream in) throws IOException {
        try {
            while (true) {
                Message m = readMessage(in);
                if (m.type == 'E') {
                    Map<Character, String> fields = new LinkedHashMap<>();
                    int i = 0;
                    while (i < m.body.length && m.body[i] != 0) {
                        char code = (char) m.body[i++];
                        int end = i;
                        while (m.body[end] != 0) {
                            end++;
                        }
                        fields.put(code, new String(m.body, i, end - i, StandardCharsets.UTF_8));
                        i = end + 1;
                    }
                    return fields;
                }
            }
        } catch (EOFException | SocketException e) {
            throw new AssertionError("the proxy closed the connection without an ErrorResponse", e);
        }
    }

    private record Message(char type, byte[] body) {
    }

    private static Message readMessage(DataInputStream in) throws IOException {
        char type = (char) in.readUnsignedByte();
        int len = in.readInt();
        return new Message(type, in.readNBytes(len - 4));
    }
}
