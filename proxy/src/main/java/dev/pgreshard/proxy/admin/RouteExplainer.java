package dev.pgreshard.proxy.admin;

import dev.pgreshard.core.topology.Cluster;
import dev.pgreshard.proxy.ProxyContext;
import dev.pgreshard.proxy.protocol.SqlState;
import dev.pgreshard.proxy.routing.BindValues;
import dev.pgreshard.proxy.routing.Decision;
import dev.pgreshard.proxy.routing.ParsedSql;
import dev.pgreshard.proxy.routing.RoutingTable;
import dev.pgreshard.proxy.routing.ShardRouter;
import dev.pgreshard.proxy.routing.StatementKind;
import dev.pgreshard.proxy.sharded.plan.BoundParams;
import dev.pgreshard.proxy.sharded.plan.KeylessInsert;
import dev.pgreshard.proxy.sharded.plan.ReadPlan;
import dev.pgreshard.proxy.sharded.plan.ReadPlanner;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * {@code EXPLAIN ROUTE [ON database] <sql>}: how the proxy would run a statement on a database's current
 * cluster — the shards it touches, the SQL each receives and the merge steps, or why it is refused.
 * Bind parameters ($n) are treated as unknown: a keyed statement whose key is a parameter shows the
 * fan-out it would be without the value.
 */
final class RouteExplainer {
    private static final Pattern SYNTAX = Pattern.compile("(?is)\\s*explain\\s+route\\s+(?:on\\s+(\"[^\"]+\"|\\S+)\\s+)?(.+?);?\\s*");
    static final List<String> COLUMNS = List.of("step", "shards", "detail");

    private final ProxyContext proxy;

    RouteExplainer(ProxyContext proxy) {
        this.proxy = proxy;
    }

    static boolean matches(String statement) {
        return statement.stripLeading().toLowerCase(Locale.ROOT).matches("(?s)explain\\s+route\\b.*");
    }

    AdminCommands.Result explain(String statement) {
        Matcher m = SYNTAX.matcher(statement);
        if (!m.matches()) {
            throw new AdminCommands.AdminError(SqlState.SYNTAX_ERROR, "usage: EXPLAIN ROUTE [ON database] <sql>");
        }
        RoutingTable.Route route = route(m.group(1) == null ? null : m.group(1).replace("\"", ""));
        Cluster cluster = route.cluster();
        String sql = m.group(2);
        ParsedSql parsed = proxy.analyzer().analyze(sql);
        List<List<String>> rows = new ArrayList<>();
        rows.add(List.of("database", "", route.database() + " on cluster " + cluster.name() + " (" + cluster.shardCount()
                + " shards, epoch " + route.epoch() + ")"));
        if (cluster.shardCount() == 1) {
            rows.add(List.of("pass-through", "0", sql));
            return AdminCommands.Result.rows(COLUMNS, rows);
        }
        KeylessInsert keyless = KeylessInsert.detect(cluster, parsed);
        if (keyless != null) {
            rows.add(keyless.refusal() != null ? List.of("refused", "", SqlState.FEATURE_NOT_SUPPORTED + ": " + keyless.refusal())
                    : List.of("kind", "by key", "write: INSERT without shard key " + keyless.table() + "." + keyless.keyColumn()
                    + "; the proxy draws " + keyless.needed() + " key(s) from the column's sequence or identity on shard 0, "
                    + "sends each shard its rows with the key written in, returns RETURNING rows in VALUES order and the "
                    + "counts summed"));
            return AdminCommands.Result.rows(COLUMNS, rows);
        }
        Decision d = ShardRouter.route(cluster, parsed, BindValues.NONE);
        if (d.refused()) {
            rows.add(List.of("refused", "", d.sqlState() + ": " + d.error()));
            return AdminCommands.Result.rows(COLUMNS, rows);
        }
        String shards = d.anyShard() ? "any" : Arrays.stream(d.shards()).mapToObj(String::valueOf).collect(Collectors.joining(","));
        rows.add(List.of("kind", shards, d.kind().name().toLowerCase(Locale.ROOT) + (d.anyShard() ? " (one shard; every shard "
                + "holds the same rows)" : d.shards().length > 1 ? " on " + d.shards().length + " shards" : " on one shard")));
        if (d.kind() == StatementKind.READ) {
            ReadPlan plan = ReadPlanner.forRead(cluster, parsed, d, BoundParams.NONE);
            if (plan != null && plan.refused()) {
                rows.add(List.of("refused", "", SqlState.FEATURE_NOT_SUPPORTED + ": " + plan.refusal()));
                return AdminCommands.Result.rows(COLUMNS, rows);
            }
            if (plan != null) {
                rows.add(List.of("shard sql", shards, plan.shardSql()));
                plan.steps().forEach(s -> rows.add(List.of("merge", "", s)));
                return AdminCommands.Result.rows(COLUMNS, rows);
            }
        }
        if (d.rewritten() != null) {
            d.rewritten().forEach((shard, text) -> rows.add(List.of("shard sql", String.valueOf(shard), text)));
        } else {
            rows.add(List.of("shard sql", shards, sql));
        }
        if (!d.anyShard() && d.shards().length > 1) {
            rows.add(List.of("merge", "", d.write() ? "command counts " + (d.sumCounts() ? "summed" : "of the first shard")
                    : "the shards' rows concatenated (no order, limit or aggregate to merge)"));
        }
        return AdminCommands.Result.rows(COLUMNS, rows);
    }

    private RoutingTable.Route route(String database) {
        if (database != null) {
            RoutingTable.Route r = proxy.routing().route(database);
            if (r == null) {
                throw new AdminCommands.AdminError(SqlState.INVALID_CATALOG_NAME, "database \"" + database + "\" is not "
                        + "served by this proxy");
            }
            return r;
        }
        List<RoutingTable.Route> sharded = proxy.routing().routes().stream().filter(r -> r.cluster().shardCount() > 1).toList();
        List<RoutingTable.Route> all = new ArrayList<>(proxy.routing().routes());
        List<RoutingTable.Route> pick = sharded.size() == 1 ? sharded : all.size() == 1 ? all : List.of();
        if (pick.isEmpty()) {
            throw new AdminCommands.AdminError(SqlState.INVALID_CATALOG_NAME, "several databases are served; name one: "
                    + "EXPLAIN ROUTE ON <database> <sql> (databases: " + all.stream().map(RoutingTable.Route::database)
                    .sorted().collect(Collectors.joining(", ")) + ")");
        }
        return pick.get(0);
    }
}
