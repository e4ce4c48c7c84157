package dev.pgreshard.proxy.sharded;

import dev.pgreshard.core.pg.Identifiers;
import dev.pgreshard.core.topology.Cluster;
import dev.pgreshard.core.topology.TableName;
import dev.pgreshard.proxy.protocol.SqlState;

import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;

/**
 * Where a sharded table's key column gets its values when an INSERT leaves them to the column's default:
 * the column's sequence (serial/bigserial, {@code DEFAULT nextval(...)}, or identity via
 * pg_get_serial_sequence) and whether it is GENERATED ALWAYS. Read from shard 0's catalog (every shard
 * has the same schema) and cached proxy-wide per shard-0 database and table for {@link #TTL_NANOS};
 * a DDL statement sent through the proxy to a cluster drops that cluster's entries when it completes.
 * So a change of default made through the proxy is seen by the next INSERT; one made on the shards
 * directly within 30 s.
 */
final class KeySources {
    /** A key column's source of values, or why it has none ({@code refusal} with its SQLSTATE). */
    record KeySource(String sequence, boolean always, String sqlState, String refusal) {
        static KeySource refused(String sqlState, String message) {
            return new KeySource(null, false, sqlState, message);
        }
    }

    static final long TTL_NANOS = 30_000_000_000L;
    private static final Pattern NEXTVAL = Pattern.compile("nextval\\('(?:[^']|'')+'::regclass\\)");

    private record Cached(KeySource source, long until) {
    }

    /** Shared by every session of this JVM: the catalog answer is the same for all of them. */
    private static final ConcurrentHashMap<String, Cached> CACHE = new ConcurrentHashMap<>();

    private KeySources() {
    }

    static KeySource cached(Cluster cluster, TableName table, String column) {
        Cached c = CACHE.get(key(cluster, table, column));
        return c == null || System.nanoTime() - c.until > 0 ? null : c.source;
    }

    static void remember(Cluster cluster, TableName table, String column, KeySource source) {
        CACHE.put(key(cluster, table, column), new Cached(source, System.nanoTime() + TTL_NANOS));
    }

    /** After DDL through the proxy: the defaults of {@code cluster}'s tables may have changed. */
    static void forget(Cluster cluster) {
        String prefix = prefix(cluster);
        CACHE.keySet().removeIf(k -> k.startsWith(prefix));
    }

    private static String prefix(Cluster cluster) {
        var s = cluster.shard(0);
        return cluster.name() + '@' + s.host() + ':' + s.port() + '/' + s.databaseName() + '|';
    }

    private static String key(Cluster cluster, TableName table, String column) {
        return prefix(cluster) + table.schema() + '.' + table.name() + '.' + column;
    }

    /**
     * One row (attidentity, attgenerated, the default's text, the identity/owned sequence, the sequence the
     * default depends on) for the column, none when the table or column does not exist. Names are
     * schema-qualified with quote_ident, so the answer does not depend on the session's search_path.
     */
    static String catalogSql(TableName table, String column) {
        return "SELECT a.attidentity, a.attgenerated, pg_get_expr(d.adbin, d.adrelid), "
                + "pg_get_serial_sequence(quote_ident(n.nspname) || '.' || quote_ident(c.relname), a.attname), "
                + "(SELECT quote_ident(sn.nspname) || '.' || quote_ident(s.relname) FROM pg_depend dp "
                + "JOIN pg_class s ON s.oid = dp.refobjid JOIN pg_namespace sn ON sn.oid = s.relnamespace "
                + "WHERE dp.classid = 'pg_attrdef'::regclass AND dp.objid = d.oid AND dp.refclassid = 'pg_class'::regclass "
                + "AND s.relkind = 'S' LIMIT 1) "
                + "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                + "JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped "
                + "LEFT JOIN pg_attrdef d ON d.adrelid = c.oid AND d.adnum = a.attnum "
                + "WHERE n.nspname = " + Identifiers.literal(table.schema()) + " AND c.relname = " + Identifiers.literal(table.name())
                + " AND a.attname = " + Identifiers.literal(column);
    }

    /** The key source the catalog's answer describes (text columns of {@link #catalogSql}). */
    static KeySource read(List<List<String>> rows, TableName table, String column) {
        String what = "INSERT into sharded table " + table + " without shard key " + column;
        if (rows.isEmpty()) {
            return KeySource.refused("42P01", what + ": shard 0 has no table " + table + " with column " + column
                    + "; create it on every shard (DDL through the proxy does)");
        }
        List<String> r = rows.get(0);
        String identity = r.get(0);
        String generated = r.get(1);
        String expr = r.get(2);
        String serial = r.get(3);
        String dependsOn = r.get(4);
        if ("a".equals(identity) || "d".equals(identity)) {
            return new KeySource(serial, "a".equals(identity), null, null);
        }
        if ("s".equals(generated)) {
            return KeySource.refused(SqlState.FEATURE_NOT_SUPPORTED, what + ": " + column + " is a generated column ("
                    + expr + "), which the proxy does not compute; give the key in every row");
        }
        if (expr != null && dependsOn != null && NEXTVAL.matcher(expr).matches()) {
            return new KeySource(dependsOn, false, null, null);
        }
        String why = expr == null ? column + " has no default"
                : "its default " + expr + " is not a sequence (nextval(...) or an identity), so the proxy cannot draw "
                + "keys that are unique across shards";
        return KeySource.refused(SqlState.FEATURE_NOT_SUPPORTED, what + ": " + why + "; give the key in every row so the "
                + "proxy knows each row's shard, or give " + column + " a sequence default (bigserial, GENERATED ... AS IDENTITY)");
    }

    /** Draws {@code n} values of {@code sequence}, in order. */
    static String nextValuesSql(String sequence, int n) {
        return "SELECT nextval(" + Identifiers.literal(sequence) + "::regclass)::text FROM generate_series(1, " + n + ")";
    }
}
