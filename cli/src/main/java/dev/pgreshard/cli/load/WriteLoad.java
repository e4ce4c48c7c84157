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

    /**
     * Where and how to write. {@code pauseBetweenMs} throttles each client (0 = as fast as it can).
     * {@code assignedIdTables}: tables whose ids the database assigns ({@link LoadTable#assigned});
     * every fourth transaction of a client also inserts a row into each (same tenant, so the same
     * shard) and bumps the previous row it wrote there for that tenant. A {@link LoadTable.Ids#KEYED_BY_ID}
     * table is sharded by its id: its row is inserted without the key, in a transaction of its own right after
     * (one shard per transaction still), on every 16th transaction of a client only, and never bumped.
     */
    public record Settings(String jdbcUrl, String user, String password, LoadTable table, int clients,
                           long pauseBetweenMs, List<LoadTable> assignedIdTables) {
        public Settings {
            assignedIdTables = List.copyOf(assignedIdTables);
            if (table.databaseAssignsIds() || assignedIdTables.stream().anyMatch(t -> !t.databaseAssignsIds())) {
                throw new IllegalArgumentException("the main load table has client ids; assignedIdTables database ids");
            }
        }

        public Settings(String jdbcUrl, String user, String password, LoadTable table, int clients, long pauseBetweenMs) {
            this(jdbcUrl, user, password, table, clients, pauseBetweenMs, List.of());
        }
    }

    /** How often (every n-th transaction of a client) the tables with database ids are written. */
    private static final int ASSIGNED_EVERY = 4;
    /** A table sharded by its id costs a transaction of its own: written on every KEYED_EVERY-th of those turns. */
    private static final int KEYED_EVERY = 4;
    private final Settings settings;
    private final AtomicBoolean stopping = new AtomicBoolean();
    private final List<Thread> threads = new ArrayList<>();
    private final Map<Long, Integer> acknowledged = new ConcurrentHashMap<>();
    /** Per table of {@link Settings#assignedIdTables}: the ids the database assigned, acknowledged, with versions. */
    private final List<Map<Long, Integer>> acknowledgedAssigned = new ArrayList<>();
    private final AtomicLong committed = new AtomicLong();
    private final AtomicLong failed = new AtomicLong();
    private final LatencyRecorder latency = new LatencyRecorder();
    private final CommitTimeline timeline = new CommitTimeline();
    private final List<String> failures = new ArrayList<>();

    private WriteLoad(Settings settings) {
        this.settings = settings;
        settings.assignedIdTables().forEach(t -> acknowledgedAssigned.add(new ConcurrentHashMap<>()));
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
        List<LoadTable> assigned = settings.assignedIdTables();
        long seq = 0;
        // the last row written for each of the client's tenants: the next transaction of that tenant bumps it
        long[] lastRowOfTenant = new long[LoadTable.TENANTS_PER_CLIENT];
        java.util.Arrays.fill(lastRowOfTenant, -1);
        // the same for each table whose ids the database assigns
        long[][] lastAssigned = new long[assigned.size()][LoadTable.TENANTS_PER_CLIENT];
        for (long[] last : lastAssigned) {
            java.util.Arrays.fill(last, -1);
        }
        List<PreparedStatement> assignedInserts = new ArrayList<>();
        List<PreparedStatement> assignedBumps = new ArrayList<>();
        try (Connection c = connection;
             PreparedStatement insert = c.prepareStatement(table.insertSql());
             PreparedStatement bump = c.prepareStatement(table.bumpSql())) {
            for (LoadTable t : assigned) {
                assignedInserts.add(c.prepareStatement(t.insertSql()));
                assignedBumps.add(c.prepareStatement(t.bumpSql()));
            }
            while (!stopping.get()) {
                int slot = (int) (seq % LoadTable.TENANTS_PER_CLIENT);
                long id = LoadTable.rowId(client, seq++);
                long tenant = LoadTable.tenantOf(client, slot);
                long previous = lastRowOfTenant[slot];
                long[] newIds = new long[assigned.size()];
                // every ASSIGNED_EVERY-th transaction of a client writes the tables with database ids too
                boolean withAssigned = !assigned.isEmpty() && seq % ASSIGNED_EVERY == 0;
                long started = System.nanoTime();
                long firstDone = 0;
                long commitStarted = 0;
                try {
                    // one tenant per transaction: the proxy routes every statement to one shard
                    insert.setLong(1, id);
                    insert.setLong(2, tenant);
                    insert.setInt(3, client);
                    insert.executeUpdate();
                    firstDone = System.nanoTime();
                    if (previous >= 0) {
                        bump.setLong(1, previous);
                        bump.setLong(2, tenant);
                        bump.executeUpdate();
                    }
                    for (int t = 0; withAssigned && t < assigned.size(); t++) {
                        if (assigned.get(t).ids() == LoadTable.Ids.KEYED_BY_ID) {
                            continue; // its own transaction, below
                        }
                        newIds[t] = insertReturningId(assignedInserts.get(t), tenant, client);
                        if (lastAssigned[t][slot] >= 0) {
                            assignedBumps.get(t).setLong(1, lastAssigned[t][slot]);
                            assignedBumps.get(t).setLong(2, tenant);
                            assignedBumps.get(t).executeUpdate();
                        }
                    }
                    commitStarted = System.nanoTime();
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
                long ended = System.nanoTime();
                long took = ended - started;
                latency.record(took);
                timeline.record(System.currentTimeMillis(), took, firstDone - started, ended - commitStarted);
                committed.incrementAndGet();
                acknowledged.put(id, 0);
                if (previous >= 0) {
                    acknowledged.merge(previous, 1, Integer::sum);
                }
                lastRowOfTenant[slot] = id;
                for (int t = 0; withAssigned && t < assigned.size(); t++) {
                    if (assigned.get(t).ids() == LoadTable.Ids.KEYED_BY_ID) {
                        if (seq % (ASSIGNED_EVERY * KEYED_EVERY) != 0) {
                            continue;
                        }
                        newIds[t] = insertKeyedById(c, assignedInserts.get(t), tenant, client);
                        if (newIds[t] < 0) {
                            if (c.isClosed()) {
                                return;
                            }
                            continue;
                        }
                    }
                    Map<Long, Integer> acks = acknowledgedAssigned.get(t);
                    if (acks.putIfAbsent(newIds[t], 0) != null) {
                        recordFailure(client, new SQLException(assigned.get(t).name() + ": the database assigned id "
                                + newIds[t] + " twice"));
                        failed.incrementAndGet();
                    }
                    if (lastAssigned[t][slot] >= 0 && assigned.get(t).ids() != LoadTable.Ids.KEYED_BY_ID) {
                        acks.merge(lastAssigned[t][slot], 1, Integer::sum);
                    }
                    lastAssigned[t][slot] = newIds[t];
                }
                if (settings.pauseBetweenMs() > 0) {
                    Thread.sleep(settings.pauseBetweenMs());
                }
            }
        } catch (SQLException e) {
            failed.incrementAndGet();
            recordFailure(client, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            for (PreparedStatement ps : assignedInserts) {
                closeQuietly(ps);
            }
            for (PreparedStatement ps : assignedBumps) {
                closeQuietly(ps);
            }
        }
    }

    /** Inserts a row into a table sharded by its id and commits it; the id, or -1 when it failed (counted). */
    private long insertKeyedById(Connection c, PreparedStatement insert, long tenant, int client) throws SQLException {
        long started = System.nanoTime();
        try {
            long id = insertReturningId(insert, tenant, client);
            c.commit();
            latency.record(System.nanoTime() - started);
            committed.incrementAndGet();
            return id;
        } catch (SQLException e) {
            failed.incrementAndGet();
            recordFailure(client, e);
            try {
                c.rollback();
            } catch (SQLException ignored) {
                // the connection may be gone; the failure above is what counts
            }
            return -1;
        }
    }

    private static long insertReturningId(PreparedStatement insert, long tenant, int client) throws SQLException {
        insert.setLong(1, tenant);
        insert.setInt(2, client);
        try (java.sql.ResultSet rs = insert.executeQuery()) {
            if (!rs.next()) {
                throw new SQLException("INSERT ... RETURNING id returned no row");
            }
            return rs.getLong(1);
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

    /** When each commit ended and how long it took: what clients felt around a given moment. */
    public CommitTimeline timeline() {
        return timeline;
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
                new AcknowledgedWrites(settings.table(), acknowledgedCopy(acknowledged)), assignedIdWrites());
    }

    /**
     * Every write acknowledged so far, while the load goes on (main table first, then the tables
     * with database ids): each of them must already be wherever traffic goes now.
     */
    public List<AcknowledgedWrites> acknowledgedSoFar() {
        List<AcknowledgedWrites> all = new ArrayList<>();
        all.add(new AcknowledgedWrites(settings.table(), acknowledgedCopy(acknowledged)));
        all.addAll(assignedIdWrites());
        return all;
    }

    private List<AcknowledgedWrites> assignedIdWrites() {
        List<AcknowledgedWrites> out = new ArrayList<>();
        for (int t = 0; t < acknowledgedAssigned.size(); t++) {
            out.add(new AcknowledgedWrites(settings.assignedIdTables().get(t), acknowledgedCopy(acknowledgedAssigned.get(t))));
        }
        return out;
    }

    /**
     * Not {@code Map.copyOf}: its open-addressing table with linear probing goes quadratic on these
     * keys (three runs of consecutive ids a billion apart): with 945 000 writes the soak spent
     * minutes in it, and some sizes from 315 000 up never finished in a minute.
     */
    private static Map<Long, Integer> acknowledgedCopy(Map<Long, Integer> acks) {
        return java.util.Collections.unmodifiableMap(new java.util.HashMap<>(acks));
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
     * @param assignedIdWrites the same for each table whose ids the database assigned
     */
    public record Result(long committed, long failed, LatencyRecorder.Summary latency, List<String> firstFailures,
                         AcknowledgedWrites writes, List<AcknowledgedWrites> assignedIdWrites) {
        /** The main table's writes, then those of the tables with database ids. */
        public List<AcknowledgedWrites> allWrites() {
            List<AcknowledgedWrites> all = new ArrayList<>();
            all.add(writes);
            all.addAll(assignedIdWrites);
            return all;
        }
    }

    private static void closeQuietly(AutoCloseable c) {
        try {
            c.close();
        } catch (Exception ignored) {
            // closing a connection that failed to be useful
        }
    }
}
