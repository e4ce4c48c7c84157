package dev.pgreshard.proxy;

import dev.pgreshard.proxy.auth.AuthMethod;
import dev.pgreshard.testkit.PostgresExtension;
import dev.pgreshard.testkit.TestDatabase;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.io.IOException;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.Random;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Fuzzing the proxy with random bytes, truncated messages and huge lengths, before and after login,
 * while a well-behaved client keeps querying: the bad connections are closed, nothing else notices.
 */
@ExtendWith(PostgresExtension.class)
class MalformedInputTest {

    @Test
    void garbageNeverCrashesTheProxyNorDisturbsOtherClients(TestDatabase db) throws Exception {
        try (ProxyFixture proxy = new ProxyFixture().cluster("prod", db)
                .options(ProxyOptions.DEFAULTS.withAuthMethod(AuthMethod.MD5)).start();
             Connection good = proxy.connect("prod")) {
            AtomicLong queries = new AtomicLong();
            AtomicReference<Throwable> failure = new AtomicReference<>();
            Thread worker = new Thread(() -> {
                try (Statement s = good.createStatement()) {
                    while (!Thread.currentThread().isInterrupted()) {
                        try (ResultSet rs = s.executeQuery("SELECT 41 + 1")) {
                            rs.next();
                            assertEquals(42, rs.getInt(1));
                        }
                        queries.incrementAndGet();
                    }
                } catch (Throwable t) {
                    if (!Thread.currentThread().isInterrupted()) {
                        failure.set(t);
                    }
                }
            });
            worker.start();
            Random random = new Random(42);
            for (int i = 0; i < 96; i++) { // 12 rounds of each kind
                fuzzOnce(proxy, random, i);
            }
            Thread.sleep(200);
            worker.interrupt();
            worker.join();
            assertNull(failure.get(), () -> "the well-behaved client failed: " + failure.get());
            assertTrue(queries.get() > 0);
            try (Connection fresh = proxy.connect("prod")) {
                assertEquals(1, PassThroughTest.count(fresh, "SELECT 1"));
            }
        }
    }

    private void fuzzOnce(ProxyFixture proxy, Random random, int round) throws Exception {
        try (RawClient c = new RawClient(proxy.port())) {
            switch (round % 8) {
                case 0 -> { // random bytes as the startup packet
                    byte[] junk = new byte[1 + random.nextInt(300)];
                    random.nextBytes(junk);
                    c.out.write(junk);
                }
                case 1 -> { // huge startup length
                    c.out.writeInt(Integer.MAX_VALUE);
                    c.out.writeInt(196608);
                }
                case 2 -> { // truncated startup packet, then hang up
                    c.out.writeInt(100);
                    c.out.writeInt(196608);
                    c.out.write("user\0app".getBytes(StandardCharsets.UTF_8));
                }
                case 3 -> { // logged in, then random bytes
                    c.loginMd5(ProxyFixture.USER, "prod", ProxyFixture.PASSWORD);
                    byte[] junk = new byte[1 + random.nextInt(500)];
                    random.nextBytes(junk);
                    c.out.write(junk);
                }
                case 4 -> { // logged in, then a message claiming 2 GB
                    c.loginMd5(ProxyFixture.USER, "prod", ProxyFixture.PASSWORD);
                    c.out.writeByte('Q');
                    c.out.writeInt(Integer.MAX_VALUE);
                    c.out.write("SELECT 1".getBytes(StandardCharsets.UTF_8));
                }
                case 5 -> { // logged in, then a truncated Parse/Bind and hang up
                    c.loginMd5(ProxyFixture.USER, "prod", ProxyFixture.PASSWORD);
                    c.out.writeByte('P');
                    c.out.writeInt(1000);
                    c.out.write("s1\0SELECT".getBytes(StandardCharsets.UTF_8));
                }
                case 6 -> { // a password message that is garbage
                    c.startup(ProxyFixture.USER, "prod");
                    c.out.writeByte('p');
                    c.out.writeInt(4 + 3);
                    c.out.write(new byte[] {1, 2, 3});
                }
                default -> { // negative length and SSL request followed by junk
                    if (random.nextBoolean()) {
                        c.loginMd5(ProxyFixture.USER, "prod", ProxyFixture.PASSWORD);
                        c.out.writeByte('B');
                        c.out.writeInt(-5);
                    } else {
                        c.out.writeInt(8);
                        c.out.writeInt(80877103);
                        c.out.write(new byte[] {'Q', 0, 0, 0, 9});
                    }
                }
            }
            c.out.flush();
            c.socket.shutdownOutput();
            c.readToEnd(); // the proxy closes the connection (with a FATAL error where it can)
        } catch (SocketException e) {
            // reset by the proxy: fine
        } catch (IOException e) {
            if (!(e instanceof java.io.EOFException)) {
                throw e;
            }
        }
    }
}
