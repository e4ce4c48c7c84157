package dev.pgreshard.activities.replication.pgoutput;

import dev.pgreshard.testkit.TestDatabase;

import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

/**
 * Captures real pgoutput messages from a server through {@code pg_logical_slot_get_binary_changes}
 * (the same bytes a walsender streams), for decoder tests.
 */
final class PgOutputCapture {
    private PgOutputCapture() {
    }

    /** A workload that produces every message type of protocol version 1. */
    static List<byte[]> captureEveryMessageType(TestDatabase db) {
        db.execute("CREATE TYPE mood AS ENUM ('sad', 'happy')",
                "CREATE TABLE t (id bigint PRIMARY KEY, name text, m mood, big text)",
                "CREATE TABLE f (a int, b text)",
                "ALTER TABLE f REPLICA IDENTITY FULL",
                "CREATE PUBLICATION cap FOR TABLE t, f",
                "SELECT pg_create_logical_replication_slot('cap', 'pgoutput')");
        db.execute("INSERT INTO t VALUES (1, 'a''b', 'happy', NULL), (2, 'ü', 'sad', repeat('x', 10))",
                "INSERT INTO t VALUES (3, 'toast', 'sad', (SELECT string_agg(md5(g::text), '') FROM generate_series(1, 2000) g))",
                "UPDATE t SET name = 'c' WHERE id = 3",
                "UPDATE t SET id = 10 WHERE id = 1",
                "DELETE FROM t WHERE id = 2",
                "INSERT INTO f VALUES (1, NULL)",
                "UPDATE f SET b = 'x'",
                "DELETE FROM f",
                "TRUNCATE t, f RESTART IDENTITY",
                "SELECT pg_logical_emit_message(true, 'pgreshard', 'hello')",
                "SELECT pg_replication_origin_create('elsewhere')");
        // a transaction replayed under a replication origin carries an Origin message
        try (var c = db.connect(); var s = c.createStatement()) {
            s.execute("SELECT pg_replication_origin_session_setup('elsewhere')");
            c.setAutoCommit(false);
            s.execute("SELECT pg_replication_origin_xact_setup('0/1234', now())");
            s.execute("INSERT INTO f VALUES (5, 'from origin')");
            c.commit();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
        List<byte[]> out = new ArrayList<>();
        for (List<String> row : db.queryRows("SELECT encode(data, 'hex') FROM pg_logical_slot_get_binary_changes('cap', NULL, NULL,"
                + " 'proto_version', '1', 'publication_names', 'cap', 'messages', 'true')")) {
            out.add(HexFormat.of().parseHex(row.get(0)));
        }
        db.execute("SELECT pg_drop_replication_slot('cap')");
        return out;
    }
}
