package dev.pgreshard.proxy;

import dev.pgreshard.core.topology.Cluster;
import dev.pgreshard.proxy.routing.RoutingTable;
import dev.pgreshard.proxy.session.ClientSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * The proxy's traffic controls, used by the admin database, the HTTP control API and (through the
 * latter) the cutover activity:
 * <ol>
 * <li>{@link #pause}: from now on each client's next transaction waits; transactions already open run
 * to their end. The acknowledgement counts them ({@code inFlight}).</li>
 * <li>{@link #awaitDrained}: waits until no transaction of the database is in flight.</li>
 * <li>{@link #swapRouting}: installs a new cluster for the database under a higher epoch; each client
 * moves at its next transaction (after the resume, for parked clients), with its named prepared
 * statements re-prepared on the new servers.</li>
 * <li>{@link #resume}: parked clients continue, in the order they arrived.</li>
 * </ol>
 */
public final class ProxyControl {
    /** The acknowledgement of pause/resume/status: which databases, paused or not, transactions in flight, clients parked. */
    public record PauseAck(List<String> databases, boolean paused, int inFlight, int waiting) {
    }

    /** The route of a database: its cluster and epoch. */
    public record RoutingState(String database, String cluster, long epoch) {
        static RoutingState of(RoutingTable.Route r) {
            return new RoutingState(r.database(), r.cluster().name(), r.epoch());
        }
    }

    /**
     * Asked when a pause lease ends before anyone resumed: true to resume now, false to keep the pause
     * and ask again shortly (e.g. the routes in the control store could not be read).
     */
    public interface LeaseExpiry {
        boolean readyToResume(String database);
    }

    private static final Logger LOG = LoggerFactory.getLogger(ProxyControl.class);
    private static final long LEASE_RETRY_MS = 1000;
    /**
     * The warm switch opens its sessions' connections in at most this many waves, at least this many sessions at
     * once: one session at a time up to 8 sessions (bench/cutover, 8 writers on 2 cores, 2026-12-03: commits of
     * 100 ms or more while the warm switch ran 0.32 and 0.94 a second with 1 and 2 proxies, against 0.60-1.01 and
     * 2.06 with 2 sessions at once; the step took no longer, each connection's set-up being bound by the
     * loaded servers, not by how many open together).
     */
    private static final int WARM_UP_WAVES = 8;
    private static final int WARM_UP_MIN_AT_ONCE = 1;

    private final ProxyContext context;
    private final ScheduledExecutorService leaseTimer = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "pgreshard-pause-lease");
        t.setDaemon(true);
        return t;
    });
    private final Map<String, ScheduledFuture<?>> leases = new ConcurrentHashMap<>();
    private volatile LeaseExpiry leaseExpiry = database -> true;

    public ProxyControl(ProxyContext context) {
        this.context = context;
    }

    /** What decides, when a pause lease ends, whether the database may resume (see {@link #pause(String, long)}). */
    public void onLeaseExpiry(LeaseExpiry expiry) {
        this.leaseExpiry = expiry;
    }

    /**
     * {@link #pause(String)} that ends by itself after {@code leaseMs} unless resumed first: the
     * cutover pauses with a lease so that a worker dying mid-cutover cannot leave clients waiting
     * for ever. At expiry the {@link LeaseExpiry} is asked first (the proxy host applies the routes
     * of the control store, so a swap committed by the dead worker is not undone by the resume).
     */
    public PauseAck pause(String database, long leaseMs) {
        PauseAck ack = pause(database);
        for (String db : ack.databases()) {
            scheduleLease(db, leaseMs);
        }
        return ack;
    }

    private void scheduleLease(String db, long delayMs) {
        ScheduledFuture<?> previous = leases.put(db, leaseTimer.schedule(() -> leaseEnded(db), delayMs, TimeUnit.MILLISECONDS));
        if (previous != null) {
            previous.cancel(false);
        }
    }

    private void leaseEnded(String db) {
        leases.remove(db);
        if (!context.gate().isPaused(db)) {
            return;
        }
        boolean ready;
        try {
            ready = leaseExpiry.readyToResume(db);
        } catch (RuntimeException e) {
            ready = false;
        }
        if (ready) {
            LOG.warn("the pause of '{}' outlived its lease (the cutover that paused it never finished): resuming", db);
            context.gate().resume(List.of(db));
        } else {
            LOG.warn("the pause of '{}' outlived its lease but the routes cannot be confirmed: staying paused", db);
            scheduleLease(db, LEASE_RETRY_MS);
        }
    }

    private void cancelLeases(List<String> dbs) {
        for (String db : dbs) {
            ScheduledFuture<?> lease = leases.remove(db);
            if (lease != null) {
                lease.cancel(false);
            }
        }
    }

    /** Stops the lease timer (the proxy is closing). */
    public void close() {
        leaseTimer.shutdownNow();
    }

    /** Pauses {@code database}, or every database this proxy serves when null or empty. */
    public PauseAck pause(String database) {
        List<String> dbs = databases(database);
        context.gate().pause(dbs);
        return ack(dbs, true);
    }

    public PauseAck resume(String database) {
        List<String> dbs = databases(database);
        cancelLeases(dbs);
        context.gate().resume(dbs);
        return ack(dbs, false);
    }

    public PauseAck status(String database) {
        List<String> dbs = databases(database);
        boolean paused = dbs.stream().allMatch(context.gate()::isPaused);
        return ack(dbs, paused);
    }

    /**
     * Waits up to {@code timeout} until no transaction of the database(s) is in flight; returns the
     * state reached (check {@code inFlight() == 0}).
     */
    public PauseAck awaitDrained(String database, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        PauseAck ack = status(database);
        while (ack.inFlight() > 0 && System.nanoTime() < deadline) {
            LockSupport.parkNanos(200_000);
            ack = status(database);
        }
        if (ack.inFlight() > 0) {
            // a cutover will be refused: say which sessions kept it from draining
            for (String db : ack.databases()) {
                List<String> busy = context.sessions().describeBusy(db);
                if (!busy.isEmpty()) {
                    LOG.warn("pause of '{}' not drained after {} ms: {}", db, timeout.toMillis(), String.join("; ", busy));
                }
            }
        }
        return ack;
    }

    /**
     * Routes {@code database} to {@code cluster} from {@code epoch} on (see {@link RoutingTable#swap}).
     * Sessions at a transaction boundary (held at the gate or idle) move now, onto the connections
     * prepared for them ({@link #prepareSwitch}) when there are: their connections to the old cluster
     * are retired with the swap (BackendConnection#retire). The others move at the end of their transaction.
     */
    public RoutingState swapRouting(String database, String cluster, long epoch) {
        RoutingState state = RoutingState.of(context.routing().swap(database, cluster, epoch));
        context.metrics().routingSwap();
        for (ClientSession s : context.sessions().sessions()) {
            if (database.equals(s.database())) {
                s.moveIfIdle();
            }
        }
        return state;
    }

    /** The answer to {@link #prepareSwitch}: how many sessions got how many connections, and what failed. */
    public record SwitchPreparation(String database, String cluster, long epoch, int sessions, int connections,
                                    List<String> problems) {
    }

    /**
     * The warm switch, before a cutover or rollback pauses anyone: every live session of {@code database}
     * opens, logs in (as its own server login) and prepares its connections to every shard of {@code cluster},
     * its SET statements replayed and its named statements prepared, so that the swap moves it onto ready
     * connections. Waits up to {@code waitMs}; any session that could not (a shard refusing connections, a
     * login refused, too slow) is a problem, and then every prepared connection of the database is closed
     * again — the caller gives the attempt up before pausing. Connections not taken within {@code ttlMs}
     * close by themselves.
     */
    public SwitchPreparation prepareSwitch(String database, String cluster, long epoch, long waitMs, long ttlMs) {
        databases(database);
        Cluster target = context.routing().cluster(cluster);
        if (target.shardCount() > 1) {
            ShardedPathWarmUp.loadClasses(); // once per JVM, before anyone is paused (see the class)
        }
        context.metrics().prepareSwitch(database, cluster, target.shardCount());
        List<ClientSession> sessions = context.sessions().sessions().stream()
                .filter(s -> database.equals(s.database())).toList();
        // a few sessions at a time: each one's connections cost its servers a process start, a login and the
        // session's statements, and on a shared machine a burst of them slowed the clients' own commits just
        // before the pause (bench/cutover: commits of 230-320 ms while 16 connections opened together)
        Waves.Started<String> waves = Waves.start(sessions, Waves.atOnce(sessions.size(), WARM_UP_WAVES,
                WARM_UP_MIN_AT_ONCE), s -> s.warmUp().prepare(target, epoch, ttlMs));
        List<CompletableFuture<String>> calls = waves.results();
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(waitMs);
        List<String> problems = new ArrayList<>();
        int late = 0;
        for (CompletableFuture<String> call : calls) {
            try {
                String problem = call.get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
                if (problem != null && problems.size() < 5) {
                    problems.add(problem);
                }
            } catch (TimeoutException e) {
                late++;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                late++;
            } catch (ExecutionException e) {
                problems.add(String.valueOf(e.getCause()));
            }
        }
        // a session still waiting for its wave must not start after this answer: the attempt may be given up,
        // or followed by another one whose connections its start would discard
        waves.stop();
        if (late > 0) {
            problems.add(late + " session(s) had no ready connections to cluster '" + cluster + "' after " + waitMs + " ms");
        }
        if (!problems.isEmpty()) {
            discardSwitch(database);
            LOG.warn("cannot prepare the switch of '{}' to cluster '{}': {}", database, cluster, String.join("; ", problems));
        }
        return new SwitchPreparation(database, cluster, epoch, sessions.size(), sessions.size() * target.shardCount(),
                List.copyOf(problems));
    }

    /** Closes the connections {@link #prepareSwitch} opened for {@code database} and no session took. */
    public SwitchPreparation discardSwitch(String database) {
        databases(database);
        int n = 0;
        for (ClientSession s : context.sessions().sessions()) {
            if (database.equals(s.database())) {
                s.warmUp().discardLater();
                n++;
            }
        }
        return new SwitchPreparation(database, null, 0, n, 0, List.of());
    }

    public ProxyMetrics.Snapshot metrics() {
        return context.metrics().snapshot(context.sessions().sessions().size());
    }

    public List<RoutingState> routing() {
        List<RoutingState> list = new ArrayList<>();
        context.routing().routes().forEach(r -> list.add(RoutingState.of(r)));
        list.sort((a, b) -> a.database().compareTo(b.database()));
        return list;
    }

    private PauseAck ack(List<String> dbs, boolean paused) {
        int inFlight = 0;
        int waiting = 0;
        for (String db : dbs) {
            inFlight += context.sessions().inFlight(db);
            waiting += context.gate().waiting(db);
        }
        return new PauseAck(dbs, paused, inFlight, waiting);
    }

    private List<String> databases(String database) {
        if (database == null || database.isEmpty()) {
            return context.routing().routes().stream().map(RoutingTable.Route::database).sorted().toList();
        }
        if (context.routing().route(database) == null) {
            throw new IllegalArgumentException("unknown database '" + database + "'; this proxy serves "
                    + String.join(", ", databases(null)));
        }
        return List.of(database);
    }
}
