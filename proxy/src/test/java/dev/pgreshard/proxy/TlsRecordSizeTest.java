package dev.pgreshard.proxy;

import dev.pgreshard.testkit.PostgresExtension;
import dev.pgreshard.testkit.TestDatabase;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The proxy writes TLS records of at most 8 KiB of plaintext, as PostgreSQL does (its send buffer is
 * 8 KiB and each flush is one SSL_write): a relay between psql and the proxy reads the TLS record
 * headers of everything the proxy sends while psql fetches a result of a few megabytes.
 */
@ExtendWith(PostgresExtension.class)
class TlsRecordSizeTest {
    /** 8 KiB of plaintext plus the most any TLS 1.2/1.3 cipher suite adds (padding, MAC, nonce). */
    private static final int MAX_RECORD = ProxyContext.TLS_RECORD_PLAINTEXT + 256;

    @Test
    void tlsRecordsFromTheProxyAreAtMost8KiBLikePostgres(TestDatabase db) throws Exception {
        Path dir = Files.createTempDirectory("pgreshard-tls-records");
        Path cert = dir.resolve("server.crt");
        Path key = dir.resolve("server.key");
        Tools.Result gen = Tools.run(Map.of(), "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                "-subj", "/CN=localhost", "-keyout", key.toString(), "-out", cert.toString());
        assertEquals(0, gen.exitCode(), gen.output());
        try (ProxyFixture proxy = new ProxyFixture().cluster("prod", db)
                .general("tls_certificate = \"" + cert + "\"\ntls_private_key = \"" + key + "\"").start();
             RecordRelay relay = new RecordRelay(proxy.port())) {
            Tools.Result r = Tools.run(Map.of("PGPASSWORD", ProxyFixture.PASSWORD, "PGSSLMODE", "require"),
                    "/usr/bin/psql", "-X", "-A", "-t", "-h", "127.0.0.1", "-p", String.valueOf(relay.port()),
                    "-U", ProxyFixture.USER, "-d", "prod", "-c",
                    "SELECT sum(length(x)) FROM (SELECT repeat('x', 100000) AS x FROM generate_series(1, 3)) s",
                    "-c", "SELECT repeat(md5(i::text), 100) FROM generate_series(1, 300) i");
            assertEquals(0, r.exitCode(), r.output());
            assertTrue(r.output().startsWith("300000\n"), r.output().substring(0, Math.min(200, r.output().length())));
            assertTrue(relay.largest.get() <= MAX_RECORD, "largest TLS record from the proxy: " + relay.largest.get()
                    + " bytes; PostgreSQL writes at most 8 KiB of plaintext per record");
            assertTrue(relay.largest.get() > 8192, "the relay saw full records: " + relay.largest.get());
            assertTrue(relay.records.get() > 100, "the result of ~1.3 MB came in many records: " + relay.records.get());
        }
    }

    /**
     * Accepts one client and relays it to the proxy; parses the server-to-client stream (after the
     * one-byte answer to SSLRequest) as TLS records and keeps the largest record length.
     */
    private static final class RecordRelay implements AutoCloseable {
        final AtomicInteger largest = new AtomicInteger();
        final AtomicInteger records = new AtomicInteger();
        private final ServerSocket listener;
        private final int target;

        RecordRelay(int target) throws IOException {
            this.target = target;
            listener = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"));
            Thread t = new Thread(this::serve, "tls-record-relay");
            t.setDaemon(true);
            t.start();
        }

        int port() {
            return listener.getLocalPort();
        }

        private void serve() {
            try (Socket client = listener.accept(); Socket server = new Socket("127.0.0.1", target)) {
                Thread up = new Thread(() -> copy(client, server), "tls-record-relay-up");
                up.setDaemon(true);
                up.start();
                InputStream in = server.getInputStream();
                OutputStream out = client.getOutputStream();
                int answer = in.read(); // 'S'
                out.write(answer);
                out.flush();
                byte[] header = new byte[5];
                while (true) {
                    if (in.readNBytes(header, 0, 5) < 5) {
                        return;
                    }
                    int length = ((header[3] & 0xff) << 8) | (header[4] & 0xff);
                    byte[] body = in.readNBytes(length);
                    if (header[0] == 23) { // application data
                        records.incrementAndGet();
                        largest.accumulateAndGet(length, Math::max);
                    }
                    out.write(header);
                    out.write(body);
                    out.flush();
                }
            } catch (IOException e) {
                // the client finished
            }
        }

        private static void copy(Socket from, Socket to) {
            try {
                from.getInputStream().transferTo(to.getOutputStream());
                to.shutdownOutput();
            } catch (IOException e) {
                // closed
            }
        }

        @Override
        public void close() throws IOException {
            listener.close();
        }
    }
}
