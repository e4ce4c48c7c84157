package dev.pgreshard.proxy;

import dev.pgreshard.proxy.routing.RoutingTable;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
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

    private final ProxyContext context;

    public ProxyControl(ProxyContext context) {
        this.context = context;
    }

    /** Pauses {@code database}, or every database this proxy serves when null or empty. */
    public PauseAck pause(String database) {
        List<String> dbs = databases(database);
        context.gate().pause(dbs);
        return ack(dbs, true);
    }

    public PauseAck resume(String database) {
        List<String> dbs = databases(database);
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
        return ack;
    }

    /** Routes {@code database} to {@code cluster} from {@code epoch} on (see {@link RoutingTable#swap}). */
    public RoutingState swapRouting(String database, String cluster, long epoch) {
        RoutingState state = RoutingState.of(context.routing().swap(database, cluster, epoch));
        context.metrics().routingSwap();
        return state;
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
