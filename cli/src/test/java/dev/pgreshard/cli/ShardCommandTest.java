package dev.pgreshard.cli;

import dev.pgreshard.testkit.PostgresExtension;
import dev.pgreshard.testkit.TestDatabase;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.UUID;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code pgreshard shard} against PostgreSQL's own partition routing ({@code satisfies_hash_partition}). */
@ExtendWith(PostgresExtension.class)
class ShardCommandTest {
    private static final String CLUSTER = """
            [[databases]]
            name = "dst"
            host = "127.0.0.1"
            database_name = "d0"
            shard = 0
            [[databases]]
            name = "dst"
            host = "127.0.0.1"
            database_name = "d1"
            shard = 1
            [[databases]]
            name = "dst"
            host = "127.0.0.1"
            database_name = "d2"
            shard = 2
            """;

    record Result(int exit, String out, String err) {
    }

    static Result run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int exit = PgReshardCommand.execute(new PrintWriter(out, true), new PrintWriter(err, true), args);
        return new Result(exit, out.toString(), err.toString());
    }

    private static Path config(Path dir, String type) throws Exception {
        Path file = dir.resolve("pgreshard.toml");
        Files.writeString(file, CLUSTER + "[[sharded_tables]]\ndatabase = \"dst\"\nname = \"sales.Orders\"\ncolumn = \"k\"\n"
                + "data_type = \"" + type + "\"\n");
        return file;
    }

    @Test
    void everyTypeMatchesPostgres(TestDatabase db, @TempDir Path dir) throws Exception {
        Random random = new Random(7);
        for (String type : List.of("bigint", "integer", "text", "varchar", "uuid")) {
            List<String> values = new ArrayList<>();
            values.addAll(switch (type) {
                case "uuid" -> List.of("00000000-0000-0000-0000-000000000000", "ffffffff-ffff-ffff-ffff-ffffffffffff");
                case "bigint" -> List.of("-1", "0", "9223372036854775807", "-9223372036854775808");
                case "integer" -> List.of("-1", "0", "2147483647", "-2147483648");
                default -> List.of("", "a", "😀");
            });
            while (values.size() < 2000) {
                values.add(switch (type) {
                    case "bigint" -> Long.toString(random.nextLong());
                    case "integer" -> Integer.toString(random.nextInt());
                    case "uuid" -> new UUID(random.nextLong(), random.nextLong()).toString();
                    default -> "tenant-" + random.nextInt() + (random.nextBoolean() ? "-é中😀" : "");
                });
            }
            List<String> args = new ArrayList<>(List.of("shard", "--config", config(dir, type).toString(),
                    "--database", "dst", "--table", "sales.Orders", "--"));
            args.addAll(values);
            Result r = run(args.toArray(String[]::new));
            assertEquals(0, r.exit(), r.err());
            String[] lines = r.out().split("\n", -1);
            assertEquals(values.size() + 1, lines.length, "one line per value");

            String table = "p_" + type;
            db.execute("CREATE TABLE " + table + " (k " + type + ") PARTITION BY HASH (k)");
            try (Connection c = db.connect();
                 PreparedStatement ps = c.prepareStatement("SELECT satisfies_hash_partition('" + table
                         + "'::regclass, 3, ?, ?::" + type + ")")) {
                for (int i = 0; i < values.size(); i++) {
                    String[] cols = lines[i].split("\t", -1);
                    assertEquals(values.get(i), cols[0], "values echoed in input order");
                    ps.setInt(1, Integer.parseInt(cols[1]));
                    ps.setString(2, values.get(i));
                    try (ResultSet rs = ps.executeQuery()) {
                        rs.next();
                        assertTrue(rs.getBoolean(1), type + " '" + values.get(i) + "' is not in partition " + cols[1]);
                    }
                }
            }
        }
    }

    @Test
    void aValueThatDoesNotParseExitsTwoAndPrintsNothing(@TempDir Path dir) throws Exception {
        Result r = run("shard", "--config", config(dir, "bigint").toString(), "--database", "dst", "--table",
                "sales.Orders", "1", "two", "3");
        assertEquals(2, r.exit());
        assertEquals("", r.out());
        assertEquals("pgreshard: 'two' is not a valid bigint value for sales.Orders.k; fix the value\n", r.err());
    }

    @Test
    void unknownNamesAndConfigsAreExplained(@TempDir Path dir) throws Exception {
        Path cfg = config(dir, "uuid");
        Result db = run("shard", "--config", cfg.toString(), "--database", "dts", "--table", "sales.Orders", "1");
        assertEquals(2, db.exit());
        assertTrue(db.err().startsWith("pgreshard: unknown database 'dts'"), db.err());

        Result table = run("shard", "--config", cfg.toString(), "--database", "dst", "--table", "orders", "1");
        assertEquals(2, table.exit());
        assertTrue(table.err().contains("table public.orders is not sharded in database 'dst'"), table.err());

        Result missing = run("shard", "--config", dir.resolve("nope.toml").toString(), "--database", "dst", "--table", "t", "1");
        assertEquals(2, missing.exit());
        assertTrue(missing.err().contains("nope.toml: no such file"), missing.err());

        Result usage = run("shard", "--config", cfg.toString(), "--table", "t", "1");
        assertEquals(2, usage.exit());
        assertTrue(usage.err().contains("Missing required option: '--database=DB'"), usage.err());
        assertEquals(1, usage.err().lines().count(), "one line on stderr");
    }
}
