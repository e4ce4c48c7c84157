package dev.pgreshard.activities.replication;

import dev.pgreshard.core.config.ConfigLoader;
import dev.pgreshard.core.config.PgReshardConfig;
import dev.pgreshard.core.pg.Lsn;
import dev.pgreshard.core.pg.PgConnector;
import dev.pgreshard.core.sharding.ShardFunction;
import dev.pgreshard.core.sharding.ShardKeyType;
import dev.pgreshard.testkit.TestDatabase;
import dev.pgreshard.workflows.TaskRef;
import dev.pgreshard.workflows.replication.Direction;
import dev.pgreshard.workflows.replication.ReplicationRequest;
import dev.pgreshard.workflows.replication.ReplicationStatus;
import dev.pgreshard.workflows.replication.StreamPosition;
import dev.pgreshard.workflows.replication.TableStart;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * A source database ("src", one shard) and two destination databases ("dst" shards 0 and 1) on the
 * shared test server, a config naming them, and plain-SQL checks that the destination equals the
 * source with every row on its shard.
 */
public final class ReplicationTestCluster {
    /** Small batches; a backlog over 16 KB at start is read through SQL decoding in chunks of 500 messages. */
    public static final ReplicationSettings FAST = new ReplicationSettings(500, 5000, 50, 200, 1, 5, 16 << 10, 500);
    private static final AtomicInteger TASK_SEQ = new AtomicInteger();

    public final TestDatabase source;
    public final List<TestDatabase> shards;
    public final PgReshardConfig config;
    public final PgConnector connector;
    public final TaskRef task;
    final Path configFile;

    /** {@code shardedTables}: pairs of table name and bigint key column. */
    public ReplicationTestCluster(TestDatabase source, TestDatabase shard0, TestDatabase shard1, String... shardedTables) {
        this.source = source;
        this.shards = List.of(shard0, shard1);
        StringBuilder toml = new StringBuilder(source.databasesEntry("src", 0)).append(shard0.databasesEntry("dst", 0))
                .append(shard1.databasesEntry("dst", 1));
        for (int i = 0; i < shardedTables.length; i += 2) {
            toml.append("[[sharded_tables]]\ndatabase = \"dst\"\nname = \"").append(shardedTables[i]).append("\"\ncolumn = \"")
                    .append(shardedTables[i + 1]).append("\"\ndata_type = \"bigint\"\n");
        }
        String users = source.usersEntry("src") + shard0.usersEntry("dst");
        try {
            Path dir = Files.createTempDirectory("pgreshard-repl-test-");
            configFile = dir.resolve("pgreshard.toml");
            Files.writeString(configFile, toml.toString());
            Files.writeString(dir.resolve("users.toml"), users);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        this.config = ConfigLoader.load(configFile);
        this.connector = new PgConnector(config);
        this.task = new TaskRef("reshard-src-dst-" + source.name() + "-" + TASK_SEQ.incrementAndGet(), "src", "dst", "pub");
    }

    /** Runs the DDL on the source and both shards (schema sync is another component's job). */
    public void createEverywhere(String... ddl) {
        source.execute(ddl);
        shards.forEach(s -> s.execute(ddl));
    }

    public void publish(String tables) {
        source.execute("CREATE PUBLICATION pub FOR TABLE " + tables);
    }

    public ReplicationRequest request(TableStart... starts) {
        return new ReplicationRequest(task, Direction.FORWARD, List.of(starts));
    }

    public SlotManager slots() {
        return new SlotManager(connector);
    }

    public StreamEndpoints endpoints(ReplicationRequest request) {
        return StreamEndpoints.of(dev.pgreshard.core.topology.Topology.of(config), request);
    }

    public ReplicationRunner runner(ReplicationRequest request) {
        return new ReplicationRunner(config, connector, request, FAST);
    }

    Lsn sourceWalLsn() {
        return Lsn.parse(source.queryRows("SELECT pg_current_wal_lsn()::text").get(0).get(0));
    }

    /** Waits until the runner has applied everything the source wrote so far (or fails after 60 s). */
    public void awaitApplied(ReplicationRunner runner) throws InterruptedException {
        Lsn target = sourceWalLsn();
        long deadline = System.currentTimeMillis() + 60_000;
        while (System.currentTimeMillis() < deadline) {
            if (runner.failure() != null) {
                throw new AssertionError("replication failed", runner.failure());
            }
            ReplicationStatus status = runner.status();
            if (status.positions().stream().map(StreamPosition::appliedLsn).allMatch(l -> !l.isBefore(target))) {
                return;
            }
            Thread.sleep(20);
        }
        fail("replication did not reach " + target + " within 60 s: " + runner.status());
    }

    /** Waits until {@code runner} applied everything the source wrote so far, then stops it and waits for its end. */
    public void drain(ReplicationRunner runner) throws InterruptedException {
        awaitApplied(runner);
        runner.stop();
        runner.awaitTermination();
    }

    /** Drops the request's slots and asserts none is left. */
    void dropSlots(ReplicationRequest request) throws java.sql.SQLException {
        slots().dropSlots(endpoints(request));
        assertNoSlot();
    }

    /**
     * The source's rows of {@code table} (shard key first, then {@code columns}) equal the union of
     * the shards' rows, and every shard holds only rows whose key maps to it.
     */
    void assertSame(String table, String keyColumn, String columns) {
        String select = "SELECT " + keyColumn + ", " + columns + " FROM " + table;
        List<String> expected = sorted(source.queryRows(select));
        List<String> actual = new ArrayList<>();
        ShardFunction fn = new ShardFunction(ShardKeyType.BIGINT, 2);
        for (int s = 0; s < shards.size(); s++) {
            for (List<String> row : shards.get(s).queryRows(select)) {
                assertEquals(s, fn.shardOfText(row.get(0)), table + " row " + row + " is on the wrong shard");
                actual.add(String.join("|", row.stream().map(String::valueOf).toList()));
            }
        }
        actual.sort(Comparator.naturalOrder());
        assertEquals(expected.size(), actual.size(), table + ": row count differs");
        assertEquals(expected, actual, table + ": rows differ");
    }

    /** An omnisharded table: every shard holds all of the source's rows. */
    void assertEverywhere(String table, String columns) {
        List<String> expected = sorted(source.queryRows("SELECT " + columns + " FROM " + table));
        for (TestDatabase s : shards) {
            assertEquals(expected, sorted(s.queryRows("SELECT " + columns + " FROM " + table)), table + " on " + s.name());
        }
    }

    static List<String> sorted(List<List<String>> rows) {
        List<String> out = new ArrayList<>();
        rows.forEach(r -> out.add(String.join("|", r.stream().map(String::valueOf).toList())));
        out.sort(Comparator.naturalOrder());
        return out;
    }

    long slotCount() {
        return source.queryLong("SELECT count(*) FROM pg_replication_slots WHERE slot_name LIKE 'pgreshard%' AND database = '"
                + source.name() + "'");
    }

    void assertNoSlot() {
        assertTrue(slotCount() == 0, "a replication slot leaked on " + source.name());
    }
}
