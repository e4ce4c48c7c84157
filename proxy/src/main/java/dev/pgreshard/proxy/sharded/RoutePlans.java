package dev.pgreshard.proxy.sharded;

import dev.pgreshard.core.topology.Cluster;
import dev.pgreshard.proxy.routing.ParsedSql;
import dev.pgreshard.proxy.routing.RoutePlan;
import dev.pgreshard.proxy.routing.ShardRouter;
import dev.pgreshard.proxy.sharded.plan.KeylessInsert;

import java.util.IdentityHashMap;
import java.util.Map;

/**
 * A session's routing of the statement texts it runs, on its current cluster: worked out on first
 * execution and reused (the analyzer hands out one {@link ParsedSql} per text, so identity is the key),
 * with only bind values read per execution. Emptied when the session moves to another cluster, and
 * when full (a client that never repeats a text gains nothing from keeping them).
 */
final class RoutePlans {
    private static final int MAX = 1024;

    /** A text's keyless-INSERT reading (null: not one) and its routing (null: routed on every execution). */
    record Entry(KeylessInsert keyless, RoutePlan route) {
    }

    private final Map<ParsedSql, Entry> plans = new IdentityHashMap<>();
    private Cluster cluster;

    Entry get(Cluster current, ParsedSql parsed) {
        if (current != cluster) {
            plans.clear();
            cluster = current;
        }
        Entry e = plans.get(parsed);
        if (e == null) {
            if (plans.size() >= MAX) {
                plans.clear();
            }
            KeylessInsert keyless = KeylessInsert.detect(current, parsed);
            e = new Entry(keyless, keyless == null ? ShardRouter.plan(current, parsed) : null);
            plans.put(parsed, e);
        }
        return e;
    }
}
