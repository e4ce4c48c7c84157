package dev.pgreshard.proxy.differential;

import dev.pgreshard.core.sharding.ShardFunction;
import dev.pgreshard.core.sharding.ShardKeyType;
import dev.pgreshard.testkit.TestDatabase;
import org.postgresql.PGConnection;

import java.io.IOException;
import java.io.StringReader;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.UUID;

/**
 * The differential test's data: a sharded {@code orders} table (shard key {@code customer_id bigint})
 * and an omnisharded {@code regions} table, filled with seeded pseudo-random rows full of the cases a
 * merge gets wrong: NULLs in every nullable column, ties, negatives, numerics whose sums pass bigint,
 * float8 values that are multiples of 1/4 (so any summation order gives the same bits, as a merge of
 * per-shard partial sums must), timestamps with microseconds, timestamptz, uuids, non-ASCII text,
 * booleans and a text column with the "C" collation next to one with the database's default.
 *
 * <p>The same rows go into a reference database whole and into shard databases by the project's own
 * sharding function ({@link ShardFunction}), as a reshard would have placed them.
 */
final class OrdersDataSet {
    static final String SCHEMA_ORDERS = """
            CREATE TABLE orders (
                id bigint PRIMARY KEY,
                customer_id bigint NOT NULL,
                qty integer,
                small smallint,
                amount numeric(12,2),
                price double precision,
                big bigint,
                status text,
                note text,
                code text COLLATE "C",
                paid boolean,
                created_at timestamp,
                updated_at timestamptz,
                ref uuid,
                region_id integer)""";
    static final String SCHEMA_REGIONS = "CREATE TABLE regions (id integer PRIMARY KEY, name text NOT NULL, tax numeric(5,3))";
    static final String[] STATUSES = {"new", "paid", "shipped", "cancelled", "returned"};
    static final String[] NOTES = {"café", "Ärger", "naïve", "東京", "Ωmega", "zebra", "apple", "Apple", "émile", "",
        " leading space", "o'brien", "back\\slash", "tab\there", "emoji 🎉", "ß", "SS", "a", "B", "ż"};
    static final int REGIONS = 8;

    private final long seed;
    private final int rows;
    /** The distinct customers: a few hundred keys, negatives and large values among them. */
    private final long[] customers;
    private final List<String> orderLines = new ArrayList<>();
    private final List<Long> orderKeys = new ArrayList<>();

    OrdersDataSet(long seed, int rows) {
        this.seed = seed;
        this.rows = rows;
        Random r = new Random(seed);
        customers = new long[Math.max(20, rows / 15)];
        for (int i = 0; i < customers.length; i++) {
            customers[i] = switch (i % 10) {
                case 0 -> -1 - r.nextInt(5000);
                case 1 -> 1_000_000_000_000L + r.nextInt(1_000_000);
                default -> 1 + r.nextInt(100_000);
            };
        }
        generate(r);
    }

    long seed() {
        return seed;
    }

    int rows() {
        return rows;
    }

    long[] customers() {
        return customers.clone();
    }

    private void generate(Random r) {
        LocalDateTime base = LocalDateTime.of(2024, 1, 1, 0, 0);
        DateTimeFormatter ts = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss.SSSSSS");
        DateTimeFormatter tstz = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss.SSSSSSxxx");
        for (int i = 1; i <= rows; i++) {
            // a skewed choice of customer: a few have many orders
            long customer = customers[r.nextInt(4) == 0 ? r.nextInt(5) : r.nextInt(customers.length)];
            List<String> f = new ArrayList<>();
            f.add(Long.toString(i * 7L - 3 * rows)); // unique, negatives too
            f.add(Long.toString(customer));
            f.add(nullOr(r, 10, () -> Integer.toString(r.nextInt(250) - 50)));
            f.add(nullOr(r, 10, () -> Integer.toString(r.nextInt(60) - 20)));
            f.add(nullOr(r, 10, () -> r.nextInt(5) == 0 ? pick(r, "0.00", "10.50", "-3.25", "99999.99")
                    : (r.nextBoolean() ? "-" : "") + r.nextInt(50_000) + "." + String.format("%02d", r.nextInt(100))));
            f.add(nullOr(r, 10, () -> Double.toString((r.nextInt(44_000) - 4000) / 4.0)));
            f.add(nullOr(r, 5, () -> r.nextInt(4) == 0 ? pick(r, "0", "-1", "4000000000000000")
                    : Long.toString(r.nextLong() % 4_000_000_000_000_000L)));
            f.add(nullOr(r, 10, () -> STATUSES[r.nextInt(STATUSES.length)]));
            f.add(nullOr(r, 15, () -> NOTES[r.nextInt(NOTES.length)] + (r.nextInt(3) == 0 ? " " + r.nextInt(10) : "")));
            f.add(nullOr(r, 10, () -> (char) ('A' + r.nextInt(6)) + "-" + r.nextInt(40)));
            f.add(nullOr(r, 10, () -> r.nextBoolean() ? "t" : "f"));
            f.add(nullOr(r, 5, () -> base.plusSeconds(r.nextInt(2 * 365 * 86_400)).plusNanos(r.nextInt(4) == 0 ? 0
                    : r.nextInt(1_000_000) * 1000L).format(ts)));
            f.add(nullOr(r, 5, () -> OffsetDateTime.of(base.plusSeconds(r.nextInt(2 * 365 * 86_400)).plusNanos(r.nextInt(1_000_000)
                    * 1000L), ZoneOffset.ofHours(r.nextInt(27) - 12)).format(tstz)));
            f.add(nullOr(r, 5, () -> new UUID(r.nextLong(), r.nextLong()).toString()));
            f.add(nullOr(r, 5, () -> Integer.toString(1 + r.nextInt(REGIONS))));
            orderLines.add(copyLine(f));
            orderKeys.add(customer);
        }
    }

    private static String pick(Random r, String... values) {
        return values[r.nextInt(values.length)];
    }

    private static String nullOr(Random r, int nullPercent, java.util.function.Supplier<String> value) {
        return r.nextInt(100) < nullPercent ? null : value.get();
    }

    /** One line of COPY's text format: tabs between fields, \N for NULL, backslash and control characters escaped. */
    private static String copyLine(List<String> fields) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < fields.size(); i++) {
            if (i > 0) {
                b.append('\t');
            }
            String v = fields.get(i);
            if (v == null) {
                b.append("\\N");
            } else {
                b.append(v.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n"));
            }
        }
        return b.append('\n').toString();
    }

    private String regionsCopy() {
        StringBuilder b = new StringBuilder();
        String[] names = {"Île-de-France", "Bayern", "Kantō", "Ontario", "Lombardia", "Île-de-France", "Α-region", "north"};
        for (int i = 1; i <= REGIONS; i++) {
            String tax = i == 3 ? "\\N" : String.format("%d.%03d", i % 3, i * 37 % 1000);
            b.append(i).append('\t').append(names[i - 1]).append('\t').append(tax)
                    .append('\n');
        }
        return b.toString();
    }

    /** The whole data set into one database: the reference. */
    void loadReference(TestDatabase db) {
        load(db, orderLines);
    }

    /** Each shard gets the orders its customer hashes to and every region. */
    void loadShards(List<TestDatabase> shards) {
        ShardFunction f = new ShardFunction(ShardKeyType.BIGINT, shards.size());
        List<List<String>> perShard = new ArrayList<>();
        shards.forEach(s -> perShard.add(new ArrayList<>()));
        for (int i = 0; i < orderLines.size(); i++) {
            perShard.get(f.shardOf(orderKeys.get(i))).add(orderLines.get(i));
        }
        for (int s = 0; s < shards.size(); s++) {
            load(shards.get(s), perShard.get(s));
        }
    }

    private void load(TestDatabase db, List<String> lines) {
        try (Connection c = db.connect(); Statement st = c.createStatement()) {
            st.execute(SCHEMA_ORDERS);
            st.execute(SCHEMA_REGIONS);
            var copy = c.unwrap(PGConnection.class).getCopyAPI();
            copy.copyIn("COPY orders FROM STDIN", new StringReader(String.join("", lines)));
            copy.copyIn("COPY regions FROM STDIN", new StringReader(regionsCopy()));
            st.execute("ANALYZE orders");
            st.execute("ANALYZE regions");
        } catch (SQLException | IOException e) {
            throw new IllegalStateException("cannot load the differential data set into " + db.name() + ": " + e.getMessage(), e);
        }
    }
}
