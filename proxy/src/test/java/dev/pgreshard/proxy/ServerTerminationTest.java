package dev.pgreshard.proxy;

import dev.pgreshard.proxy.auth.AuthMethod;
import dev.pgreshard.testkit.PostgresExtension;
import dev.pgreshard.testkit.TestDatabase;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A server that ends a session with its own FATAL (pg_terminate_backend, a shutdown) is relayed as
 * it is, and the client connection is closed: the client reads exactly what it would have read from
 * PostgreSQL directly — not a second FATAL 08006 of the proxy's, which clients report instead.
 */
@ExtendWith(PostgresExtension.class)
class ServerTerminationTest {

    @Test
    void aServersFatalIsRelayedAloneThroughOneShard(TestDatabase db) throws Exception {
        List<String> direct = afterTermination(db, db.server().port(), db.server().superuser(), db.name(), false);
        try (ProxyFixture proxy = new ProxyFixture().cluster("prod", db)
                .options(ProxyOptions.DEFAULTS.withAuthMethod(AuthMethod.MD5)).start()) {
            List<String> proxied = afterTermination(db, proxy.port(), ProxyFixture.USER, "prod", true);
            assertEquals(List.of("E FATAL 57P01 terminating connection due to administrator command"), direct);
            assertEquals(direct, proxied);
        }
    }

    @Test
    void aShardsFatalIsRelayedAloneThroughSeveralShards(TestDatabase s0, TestDatabase s1) throws Exception {
        s0.execute("CREATE TABLE t (k bigint PRIMARY KEY)");
        s1.execute("CREATE TABLE t (k bigint PRIMARY KEY)");
        try (ProxyFixture proxy = new ProxyFixture().cluster("prod", s0, s1).shardedTable("prod", "t", "k", "bigint")
                .options(ProxyOptions.DEFAULTS.withAuthMethod(AuthMethod.MD5)).start()) {
            List<String> proxied = afterTermination(s0, proxy.port(), ProxyFixture.USER, "prod", true);
            assertEquals(List.of("E FATAL 57P01 terminating connection due to administrator command"), proxied);
        }
    }

    /**
     * Logs in, runs a query (so the server connection exists), has the backend of {@code db} serving it
     * terminated, and returns every message received until the connection closes.
     */
    private static List<String> afterTermination(TestDatabase db, int port, String user, String database, boolean md5)
            throws Exception {
        try (RawClient c = new RawClient(port); Connection admin = db.connect(); Statement s = admin.createStatement()) {
            if (md5) {
                c.loginMd5(user, database, ProxyFixture.PASSWORD);
            } else {
                c.startup(user, database);
                c.readUntilReady();
            }
            c.query("SELECT 1");
            c.readUntilReady();
            long deadline = System.nanoTime() + 10_000_000_000L;
            int terminated = 0;
            while (terminated == 0 && System.nanoTime() < deadline) {
                try (ResultSet rs = s.executeQuery("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                        + "WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'")) {
                    rs.next();
                    terminated = rs.getInt(1);
                }
            }
            assertTrue(terminated > 0, "a backend to terminate");
            return messages(c.readToEnd());
        }
    }

    /** Each message as "type" or, for errors and notices, "type severity sqlstate message". */
    private static List<String> messages(byte[] bytes) throws IOException {
        List<String> out = new ArrayList<>();
        ByteBuffer b = ByteBuffer.wrap(bytes);
        while (b.remaining() >= 5) {
            char type = (char) b.get();
            byte[] body = new byte[b.getInt() - 4];
            b.get(body);
            if (type != 'E' && type != 'N') {
                out.add(String.valueOf(type));
                continue;
            }
            String severity = "";
            String code = "";
            String message = "";
            int i = 0;
            while (i < body.length && body[i] != 0) {
                char field = (char) body[i++];
                int end = i;
                while (body[end] != 0) {
                    end++;
                }
                String value = new String(body, i, end - i, StandardCharsets.UTF_8);
                switch (field) {
                    case 'V' -> severity = value;
                    case 'C' -> code = value;
                    case 'M' -> message = value;
                    default -> { }
                }
                i = end + 1;
            }
            out.add(type + " " + severity + " " + code + " " + message);
        }
        if (b.hasRemaining()) {
            out.add("+" + b.remaining() + " bytes");
        }
        return out;
    }
}
