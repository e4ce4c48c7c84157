package dev.pgreshard.proxy.differential;

import dev.pgreshard.proxy.ProxyFixture;
import dev.pgreshard.proxy.differential.AnswerComparison.Verdict;
import dev.pgreshard.proxy.differential.DifferentialRun.Mode;
import dev.pgreshard.testkit.PostgresExtension;
import dev.pgreshard.testkit.TestDatabase;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.DriverManager;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TimeZone;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The differential test of cross-shard reads: the same rows in one PostgreSQL database (the
 * reference) and spread over 2 and over 3 shards behind the proxy; seeded random read statements run
 * on both in the simple protocol, the extended protocol and as named prepared statements re-executed
 * with new parameters. Every answer through the proxy must equal the reference's (rows, column labels
 * and types) or be a refusal with SQLSTATE 0A000 where the statement's shape allows one.
 *
 * <p>The small seed runs in {@code mvn verify}; the large one with
 * {@code mvn -B verify -pl proxy -am -Pdifferential} (seed, rows and statements can be changed with
 * {@code -Dpgreshard.differential.seed=… -Dpgreshard.differential.rows=… -Dpgreshard.differential.statements=…}).
 */
@ExtendWith(PostgresExtension.class)
class DifferentialReadTest {
    static final String CLIENT_TIME_ZONE = "America/St_Johns";

    @Test
    void smallSeedOnTwoAndThreeShards(TestDatabase reference, TestDatabase twoA, TestDatabase twoB, TestDatabase threeA,
                                      TestDatabase threeB, TestDatabase threeC) throws Exception {
        // the simple protocol and named statements executed twice (text, then binary results), each read on 2 or on
        // 3 shards in turn; the large seed runs every read on both and adds the extended protocol's unnamed statements
        differential(20261130L, 2500, 520, List.of(Mode.SIMPLE, Mode.PREPARED), true, reference, List.of(twoA, twoB),
                List.of(threeA, threeB, threeC));
    }

    @Test
    @Tag("differential")
    void largeSeedOnTwoAndThreeShards(TestDatabase reference, TestDatabase twoA, TestDatabase twoB, TestDatabase threeA,
                                      TestDatabase threeB, TestDatabase threeC) throws Exception {
        differential(Long.getLong("pgreshard.differential.seed", 14L), Integer.getInteger("pgreshard.differential.rows", 20_000),
                Integer.getInteger("pgreshard.differential.statements", 5000), List.of(Mode.values()), false, reference, List.of(twoA, twoB),
                List.of(threeA, threeB, threeC));
    }

    private static void differential(long seed, int rows, int statements, List<Mode> modes, boolean alternate,
                                     TestDatabase reference, List<TestDatabase> two,
                                     List<TestDatabase> three) throws Exception {
        // PgJDBC sends the JVM's time zone at startup; one with a half-hour offset and summer time makes every
        // timestamptz text and extract() depend on the shards using the client's zone, as one database would
        TimeZone saved = TimeZone.getDefault();
        TimeZone.setDefault(TimeZone.getTimeZone(CLIENT_TIME_ZONE));
        try {
            compare(seed, rows, statements, modes, alternate, reference, two, three);
        } finally {
            TimeZone.setDefault(saved);
        }
    }

    private static void compare(long seed, int rows, int statements, List<Mode> modes, boolean alternate,
                                TestDatabase reference, List<TestDatabase> two,
                                List<TestDatabase> three) throws Exception {
        long started = System.nanoTime();
        OrdersDataSet data = new OrdersDataSet(seed, rows);
        data.loadReference(reference);
        data.loadShards(two);
        data.loadShards(three);
        List<GeneratedRead> reads = new ReadGenerator(seed, data.customers()).generate(statements);
        try (ProxyFixture proxy = new ProxyFixture().cluster("two", two.toArray(TestDatabase[]::new))
                .cluster("three", three.toArray(TestDatabase[]::new))
                .shardedTable("two", "orders", "customer_id", "bigint")
                .shardedTable("three", "orders", "customer_id", "bigint").start()) {
            Map<String, DifferentialRun.Connector> targets = new LinkedHashMap<>();
            targets.put("2 shards", mode -> proxy.connect("two", ProxyFixture.USER, ProxyFixture.PASSWORD, mode.properties()));
            targets.put("3 shards", mode -> proxy.connect("three", ProxyFixture.USER, ProxyFixture.PASSWORD, mode.properties()));
            DifferentialRun run = new DifferentialRun();
            run.run(reads, modes, alternate, mode -> {
                Properties p = mode.properties();
                p.setProperty("user", reference.server().superuser());
                p.setProperty("password", reference.server().password());
                return DriverManager.getConnection(reference.jdbcUrl(), p);
            }, targets);
            String report = "differential reads, seed " + seed + ", " + rows + " rows, " + reads.size() + " statements in " + modes
                    + (alternate ? " on 2 or 3 shards in turn" : " on 2 and 3 shards")
                    + " "
                    + ReadGenerator.census(reads) + ", " + (System.nanoTime() - started) / 1_000_000 + " ms\n" + run.report();
            Path all = Path.of("target", "differential-reads-" + seed + ".txt");
            Files.createDirectories(all.getParent());
            Files.writeString(all, report + "\nall wrong answers:\n" + run.allWrongs());
            System.out.println(report + "(every wrong answer: " + all.toAbsolutePath() + ")");
            // the counts belong in the build log even when the test passes
            assertEquals(0, run.referenceErrors(), "generated statements the reference database rejects: a generator defect\n" + report);
            assertTrue(run.total(Verdict.EQUAL) > 0, report);
            assertEquals(0, run.total(Verdict.WRONG), "wrong answers through the proxy\n" + report);
        }
    }
}
