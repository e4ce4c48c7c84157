package dev.pgreshard.cli.load;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A live application writing through the proxy while a task runs: {@code clients} threads, each in
 * its own connection, each transaction inserting a new row and bumping the version of the client's
 * previous row (so both INSERT and UPDATE cross the cutover). Every acknowledged commit is recorded
 * client-side, so {@link AcknowledgedWrites#missingIn} can prove afterwards that nothing
 * acknowledged was lost. Failed transactions are counted, never retried (a retry would hide them).
 *
 * <p>The table it writes is {@link LoadTable#ddl}: {@code id bigint, tenant_id bigint (the shard
 * key), client int, version int}, primary key (tenant_id, id). Each client cycles over its own tenants, and each
 * transaction touches one tenant (a new row, plus a version bump of that tenant's previous row), so
 * the proxy routes it to one shard while the rows spread over every shard.
 */
public final class WriteLoad implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(WriteLoad.class);

    /** Where and how to write. {@code pauseBetweenMs} throttles each client (0 = as fast as it can). */
    public record Settings(String jdbcUrl, String user, String password, LoadTable table, int clients,
                           long pauseBetweenMs) {
    }

    private final Settings settings;
    private final AtomicBoolean stopping = new AtomicBoolean();
    private final List<Thread> threads = new ArrayList<>();
    private final Map<Long, Integer> acknowledged = new ConcurrentHashMap<>();
    private final AtomicLong committed = new AtomicLong();
    private final AtomicLong failed = new AtomicLong();
    private final LatencyRecorder latency = new LatencyRecorder();
    private final List<String> failures = new ArrayList<>();

    private WriteLoad(Settings settings) {
        this.settings = settings;
    }

    /** Opens every client's connection first (a bad URL or password fails here), then starts writing. */
    public static WriteLoad start(Settings settings) throws SQLException {
        WriteLoad load = new WriteLoad(settings);
        List<Connection> connections = new ArrayList<>();
        try {
            for (int i = 0; i < settings.clients(); i++) {
                connections.add(load.connect());
            }
        } catch (SQLException e) {
            for (Connection c : connections) {
                closeQuietly(c);
            }
            throw e;
        }
        for (int i = 0; i < settings.clients(); i++) {
            int client = i;
            Connection connection = connections.get(i);
            Thread t = new Thread(() -> load.runClient(client, connection), "write-load-" + i);
            t.setDaemon(true);
            load.threads.add(t);
            t.start();
        }
        return load;
    }

    private Connection connect() throws SQLException {
        Properties p = new Properties();
        p.setProperty("user", settings.user());
        p.setProperty("password", settings.password());
        p.setProperty("tcpKeepAlive", "true");
        Connection c = DriverManager.getConnection(settings.jdbcUrl(), p);
        c.setAutoCommit(false);
        return c;
    }

    private void runClient(int client, Connection connection) {
        LoadTable table = settings.table();
        long seq = 0;
        // the last row written for each of the client's tenants: the next transaction of that tenant bumps it
        long[] lastRowOfTenant = new long[LoadTable.TENANTS_PER_CLIENT];
        java.util.Arrays.fill(lastRowOfTenant, -1);
        try (Connection c = connection;
             PreparedStatement insert = c.prepareStatement(table.insertSql());
             PreparedStatement bump = c.prepareStatement(table.bumpSql())) {
            while (!stopping.get()) {
                int slot = (int) (seq % LoadTable.TENANTS_PER_CLIENT);
                long id = LoadTable.rowId(client, seq++);
                long tenant = LoadTable.tenantOf(client, slot);
                long previous = lastRowOfTenant[slot];
                long started = System.nanoTime();
                try {
                    // one tenant per transaction: the proxy routes both statements to one shard
                    insert.setLong(1, id);
                    insert.setLong(2, tenant);
                    insert.setInt(3, client);
                    insert.executeUpdate();
                    if (previous >= 0) {
                        bump.setLong(1, previous);
                        bump.setLong(2, tenant);
                        bump.executeUpdate();
                    }
                    c.commit();
                } catch (SQLException e) {
                    failed.incrementAndGet();
                    recordFailure(client, e);
                    try {
                        c.rollback();
                    } catch (SQLException ignored) {
                        // the connection may be gone; the failure above is what counts
                    }
                    if (c.isClosed()) {
                        return;
                    }
                    continue;
                }
                latency.record(System.nanoTime() - started);
                committed.incrementAndGet();
                acknowledged.put(id, 0);
                if (previous >= 0) {
                    acknowledged.merge(previous, 1, Integer::sum);
                }
                lastRowOfTenant[slot] = id;
                if (settings.pauseBetweenMs() > 0) {
                    Thread.sleep(settings.pauseBetweenMs());
                }
            }
        } catch (SQLException e) {
            failed.incrementAndGet();
            recordFailure(client, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void recordFailure(int client, SQLException e) {
        synchronized (failures) {
            if (failures.size() < 20) {
                failures.add("client " + client + ": " + e.getMessage());
            }
        }
        log.warn("write-load client {} transaction failed: {}", client, e.getMessage());
    }

    /** Committed transactions so far. */
    public long committed() {
        return committed.get();
    }

    /** Stops the clients (each finishes its current transaction) and returns what happened. */
    public Result stop() throws InterruptedException {
        stopping.set(true);
        for (Thread t : threads) {
            t.join(TimeUnit.SECONDS.toMillis(60));
        }
        List<String> firstFailures;
        synchronized (failures) {
            firstFailures = List.copyOf(failures);
        }
        return new Result(committed.get(), failed.get(), latency.summary(), firstFailures,
                new AcknowledgedWrites(settings.table(), acknowledgedCopy()));
    }

    /**
     * Not {@code Map.copyOf}: its open-addressing table with linear probing goes quadratic on these
     * keys (three runs of consecutive ids a billion apart): with 945 000 writes the soak spent
     * minutes in it, and some sizes from 315 000 up never finished in a minute.
     */
    private Map<Long, Integer> acknowledgedCopy() {
        return java.util.Collections.unmodifiableMap(new java.util.HashMap<>(acknowledged));
    }

    @Override
    public void close() throws InterruptedException {
        if (!stopping.get()) {
            stop();
        }
    }

    /**
     * @param committed     acknowledged transactions
     * @param failed        transactions that got an error (each is a client-visible failure)
     * @param latency       commit latency; its max is the longest client-visible stall
     * @param firstFailures the first errors, for the report
     * @param writes        what was acknowledged, to check against the databases
     */
    public record Result(long committed, long failed, LatencyRecorder.Summary latency, List<String> firstFailures,
                         AcknowledgedWrites writes) {
    }

    private static void closeQuietly(Connection c) {
        try {
            c.close();
        } catch (SQLException ignored) {
            // closing a connection that failed to be useful
        }
    }
}
