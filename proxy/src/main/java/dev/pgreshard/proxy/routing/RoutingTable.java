package dev.pgreshard.proxy.routing;

import dev.pgreshard.core.config.ConfigException;
import dev.pgreshard.core.config.PgReshardConfig;
import dev.pgreshard.core.topology.Cluster;
import dev.pgreshard.core.topology.Topology;

import java.util.Collection;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Which cluster serves each client-facing database, with an epoch. Initially every database is served
 * by the cluster of the same name at epoch 0. The cutover replaces an entry atomically with
 * {@link #swap}; each session picks the new route up at its client's next transaction boundary.
 */
public final class RoutingTable {
    /** The route of one database: its cluster and the epoch that installed it. */
    public record Route(String database, Cluster cluster, long epoch) {
    }

    private final PgReshardConfig config;
    private final Topology topology;
    private final Map<String, Route> routes = new ConcurrentHashMap<>();

    public RoutingTable(PgReshardConfig config, Topology topology) {
        this.config = config;
        this.topology = topology;
        for (String name : topology.clusterNames()) {
            routes.put(name, new Route(name, topology.cluster(name), 0));
        }
    }

    /** The current route, or null when the database is not served by this proxy. */
    public Route route(String database) {
        return routes.get(database);
    }

    public Collection<Route> routes() {
        return routes.values();
    }

    /** The configured cluster {@code name} that a database may be routed to; refused when unknown or without server credentials. */
    public Cluster cluster(String name) {
        try {
            Cluster target = topology.cluster(name);
            config.serverCredentials(name);
            return target;
        } catch (ConfigException e) {
            throw new IllegalArgumentException(e.getMessage());
        }
    }

    /**
     * Routes {@code database} to {@code cluster} from {@code epoch} on. The epoch must be higher than
     * the current one (a late or repeated swap cannot undo a newer one); swapping to the same cluster
     * and epoch again is accepted and changes nothing, so a retried cutover step is harmless.
     */
    public synchronized Route swap(String database, String cluster, long epoch) {
        Route current = routes.get(database);
        if (current == null) {
            throw new IllegalArgumentException("unknown database '" + database + "'; this proxy serves "
                    + String.join(", ", routes.keySet()));
        }
        if (current.epoch() == epoch && current.cluster().name().equals(cluster)) {
            return current;
        }
        if (epoch <= current.epoch()) {
            throw new IllegalArgumentException("routing epoch " + epoch + " for '" + database
                    + "' is not newer than the current epoch " + current.epoch() + " (cluster '"
                    + current.cluster().name() + "'); use a higher epoch");
        }
        Cluster target = cluster(cluster);
        Route next = new Route(database, target, epoch);
        routes.put(database, next);
        return next;
    }
}
