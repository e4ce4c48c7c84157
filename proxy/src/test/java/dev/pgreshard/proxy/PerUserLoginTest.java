package dev.pgreshard.proxy;

import dev.pgreshard.testkit.PostgresExtension;
import dev.pgreshard.testkit.TestDatabase;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.postgresql.util.PSQLException;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Properties;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * Each client reaches the servers as its own users.toml entry, never as the database's first entry
 * (the fixture's superuser {@code app}): a read-only role sees itself as {@code current_user} and its
 * writes are refused with PostgreSQL's own error, on one shard, on several shards and after a routing
 * swap. The refusals are compared with what the same role gets from PostgreSQL directly.
 */
@ExtendWith(PostgresExtension.class)
class PerUserLoginTest {
    /** Roles are global on the shared test server: names of our own. */
    private static final String READER = "peruser_reader";
    private static final String WRITER = "peruser_writer";
    private static final String MAPPED = "peruser_mapped";
    private static final String READER_PW = "reader pw";
    private static final String WRITER_PW = "writer pw";

    private static TestDatabase single;
    private static TestDatabase shard0;
    private static TestDatabase shard1;
    private static ProxyFixture proxy;

    @BeforeAll
    static void start() {
        single = dev.pgreshard.testkit.PostgresFixture.database("peruser_single");
        shard0 = dev.pgreshard.testkit.PostgresFixture.database("peruser_s0");
        shard1 = dev.pgreshard.testkit.PostgresFixture.database("peruser_s1");
        single.execute("DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '" + READER + "') THEN "
                        + "CREATE ROLE " + READER + " LOGIN PASSWORD '" + READER_PW + "'; END IF; "
                        + "IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '" + WRITER + "') THEN "
                        + "CREATE ROLE " + WRITER + " LOGIN PASSWORD '" + WRITER_PW + "'; END IF; END $$");
        for (TestDatabase db : new TestDatabase[] {single, shard0, shard1}) {
            db.execute("CREATE TABLE items (k bigint PRIMARY KEY, v text)",
                    "GRANT SELECT ON items TO " + READER,
                    "GRANT SELECT, INSERT, UPDATE, DELETE ON items TO " + WRITER);
        }
        proxy = new ProxyFixture().cluster("prod", single).cluster("prod_sharded", shard0, shard1)
                .shardedTable("prod_sharded", "items", "k", "bigint")
                .user("prod", READER, READER_PW).user("prod", WRITER, WRITER_PW)
                .user("prod_sharded", READER, READER_PW).user("prod_sharded", WRITER, WRITER_PW)
                // a client name of its own that reaches the servers as the reader role
                .user("prod", MAPPED, "mapped pw", READER, READER_PW)
                .start();
    }

    @AfterAll
    static void stop() {
        proxy.close();
    }

    @Test
    void eachClientRunsAsItsOwnRoleThroughOneShard() throws Exception {
        try (Connection reader = proxy.connect("prod", READER, READER_PW, new Properties());
             Connection writer = proxy.connect("prod", WRITER, WRITER_PW, new Properties());
             Connection mapped = proxy.connect("prod", MAPPED, "mapped pw", new Properties());
             Connection first = proxy.connect("prod")) {
            assertEquals(READER, currentUser(reader));
            assertEquals(WRITER, currentUser(writer));
            assertEquals(READER, currentUser(mapped), "server_user maps the client to that role");
            assertEquals(single.server().superuser(), currentUser(first));

            execute(writer, "INSERT INTO items (k, v) VALUES (1, 'one')");
            assertSameRefusal(single, "INSERT INTO items (k, v) VALUES (2, 'two')", reader);
            assertSameRefusal(single, "UPDATE items SET v = 'x'", mapped);
            assertEquals(1, single.queryLong("SELECT count(*) FROM items"), "nothing was written by the reader");
        }
    }

    @Test
    void eachClientRunsAsItsOwnRoleOnEveryShard() throws Exception {
        try (Connection reader = proxy.connect("prod_sharded", READER, READER_PW, new Properties());
             Connection writer = proxy.connect("prod_sharded", WRITER, WRITER_PW, new Properties())) {
            assertEquals(READER, currentUser(reader));
            assertEquals(WRITER, currentUser(writer));
            for (long k = 10; k < 20; k++) {
                execute(writer, "INSERT INTO items (k, v) VALUES (" + k + ", 'w')");
            }
            assertEquals(10, shard0.queryLong("SELECT count(*) FROM items WHERE k >= 10")
                    + shard1.queryLong("SELECT count(*) FROM items WHERE k >= 10"));
            // one shard (keyed), then every shard (keyless)
            assertSameRefusal(shard0, "INSERT INTO items (k, v) VALUES (100, 'r')", reader);
            assertSameRefusal(shard0, "UPDATE items SET v = 'r'", reader);
            assertSameRefusal(shard0, "DELETE FROM items WHERE k = 11", reader);
            assertEquals(0, shard0.queryLong("SELECT count(*) FROM items WHERE v = 'r'")
                    + shard1.queryLong("SELECT count(*) FROM items WHERE v = 'r'"));
            // the role is the same on every shard: a fanned-out read reports each shard's current_user
            try (Statement s = reader.createStatement();
                 ResultSet rs = s.executeQuery("SELECT current_user FROM items WHERE k >= 10")) {
                int rows = 0;
                while (rs.next()) {
                    assertEquals(READER, rs.getString(1));
                    rows++;
                }
                assertEquals(10, rows);
            }
        }
    }

    @Test
    void aRoutingSwapReconnectsAsTheSameRole() throws Exception {
        TestDatabase src = dev.pgreshard.testkit.PostgresFixture.database("peruser_swap_src");
        TestDatabase d0 = dev.pgreshard.testkit.PostgresFixture.database("peruser_swap_d0");
        TestDatabase d1 = dev.pgreshard.testkit.PostgresFixture.database("peruser_swap_d1");
        for (TestDatabase db : new TestDatabase[] {src, d0, d1}) {
            db.execute("CREATE TABLE items (k bigint PRIMARY KEY, v text)", "GRANT SELECT ON items TO " + READER);
        }
        // the reader has an entry for the source only: after the swap it keeps its own credentials
        try (ProxyFixture p = new ProxyFixture().cluster("src", src).cluster("dst", d0, d1)
                .shardedTable("dst", "items", "k", "bigint").user("src", READER, READER_PW).start();
             Connection reader = p.connect("src", READER, READER_PW, new Properties())) {
            assertEquals(READER, currentUser(reader));
            p.server().control().swapRouting("src", "dst", 1);
            assertEquals(READER, currentUser(reader), "after the swap to two shards");
            assertSameRefusal(d0, "INSERT INTO items (k, v) VALUES (1, 'r')", reader);
            assertSameRefusal(d0, "UPDATE items SET v = 'r'", reader);
            p.server().control().swapRouting("src", "src", 2);
            assertEquals(READER, currentUser(reader), "after the swap back to one shard");
            assertSameRefusal(src, "INSERT INTO items (k, v) VALUES (1, 'r')", reader);
        }
    }

    /** The proxy refuses {@code sql} for the client exactly as PostgreSQL refuses it to the reader role directly. */
    private static void assertSameRefusal(TestDatabase direct, String sql, Connection throughProxy) throws SQLException {
        PSQLException expected;
        try (Connection c = DriverManager.getConnection(direct.jdbcUrl(), READER, READER_PW)) {
            expected = assertThrows(PSQLException.class, () -> execute(c, sql), "PostgreSQL refuses " + sql);
        }
        PSQLException got = assertThrows(PSQLException.class, () -> execute(throughProxy, sql), sql);
        assertEquals("42501", got.getSQLState(), got.getMessage());
        assertEquals(expected.getSQLState(), got.getSQLState());
        assertEquals(expected.getServerErrorMessage().getMessage(), got.getServerErrorMessage().getMessage());
        assertEquals(expected.getServerErrorMessage().getSeverity(), got.getServerErrorMessage().getSeverity());
    }

    private static String currentUser(Connection c) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT current_user")) {
            rs.next();
            return rs.getString(1);
        }
    }

    private static void execute(Connection c, String sql) throws SQLException {
        try (Statement s = c.createStatement()) {
            s.execute(sql);
        }
    }
}
