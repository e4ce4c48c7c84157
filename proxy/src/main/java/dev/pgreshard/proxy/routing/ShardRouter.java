package dev.pgreshard.proxy.routing;

import dev.pgreshard.core.sharding.ShardFunction;
import dev.pgreshard.core.sharding.ShardKeyParseException;
import dev.pgreshard.core.sharding.ShardKeyType;
import dev.pgreshard.core.topology.Cluster;
import dev.pgreshard.core.topology.ShardedTable;
import dev.pgreshard.core.topology.TableName;
import dev.pgreshard.proxy.protocol.SqlState;
import net.sf.jsqlparser.expression.Expression;
import net.sf.jsqlparser.expression.operators.relational.ExpressionList;
import net.sf.jsqlparser.schema.Column;
import net.sf.jsqlparser.schema.Table;
import net.sf.jsqlparser.statement.Statement;
import net.sf.jsqlparser.statement.delete.Delete;
import net.sf.jsqlparser.statement.insert.Insert;
import net.sf.jsqlparser.statement.select.PlainSelect;
import net.sf.jsqlparser.statement.select.Select;
import net.sf.jsqlparser.statement.update.Update;
import net.sf.jsqlparser.statement.update.UpdateSet;
import net.sf.jsqlparser.util.TablesNamesFinder;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Decides the shards of a statement on a cluster with several shards: statements on sharded tables
 * go where their key values hash to (WHERE key = v / IN (...), INSERT VALUES rows); keyless reads fan
 * out, keyless UPDATE/DELETE go everywhere; omnisharded tables are read from any shard and written on
 * all. What cannot be placed safely is refused with a SQLSTATE and a message saying what to change.
 */
public final class ShardRouter {
    private ShardRouter() {
    }

    public static Decision route(Cluster cluster, ParsedSql parsed, BindValues params) {
        StatementKind kind = parsed.kind();
        int n = cluster.shardCount();
        switch (kind) {
            case BEGIN, COMMIT, ROLLBACK, IN_TRANSACTION, SESSION, COPY_IN -> {
                return Decision.control(kind);
            }
            case ANY_SHARD -> {
                return Decision.any(kind);
            }
            case UNKNOWN -> {
                return Decision.refuse(kind, SqlState.FEATURE_NOT_SUPPORTED, "pgreshard cannot tell which shards this "
                        + "statement touches and it may write, so it is refused on sharded database '" + cluster.name()
                        + "': " + abbreviate(parsed.sql()) + "; rewrite it in a form the router reads, or run it on each shard directly");
            }
            case ALL_SHARDS_WRITE -> {
                return Decision.to(kind, Decision.all(n), true, false);
            }
            case COPY_OUT -> {
                CopyCommand copy = parsed.copy();
                if (copy.table() != null && !cluster.isSharded(copy.table())) {
                    return Decision.any(kind);
                }
                return Decision.to(kind, Decision.all(n), false, true);
            }
            default -> {
                // READ / WRITE below
            }
        }
        if (parsed.statements().isEmpty()) {
            return Decision.to(StatementKind.READ, Decision.all(n), false, true); // unparsed but read-only
        }
        List<Decision> each = new ArrayList<>();
        for (Statement s : parsed.statements()) {
            Decision d = routeOne(cluster, s, params, parsed.statements().size() == 1 ? parsed.sql() : null);
            if (d.refused()) {
                return d;
            }
            each.add(d);
        }
        if (each.size() == 1) {
            return each.get(0);
        }
        // several statements in one Query: fine when they agree, or when they only read
        boolean write = each.stream().anyMatch(Decision::write);
        Set<Integer> union = new TreeSet<>();
        each.forEach(d -> Arrays.stream(d.anyShard() ? new int[0] : d.shards()).forEach(union::add));
        if (union.isEmpty()) {
            return Decision.any(kind);
        }
        boolean same = each.stream().allMatch(d -> d.anyShard() || Arrays.equals(d.shards(), each.get(0).shards()));
        if (!write || same) {
            return Decision.to(kind, union.stream().mapToInt(Integer::intValue).toArray(), write, true);
        }
        return Decision.refuse(kind, SqlState.FEATURE_NOT_SUPPORTED, "the statements of this query write to different shards of '"
                + cluster.name() + "'; send them one at a time");
    }

    /**
     * The routing of {@code parsed} on {@code cluster} for every execution (see {@link RoutePlan}), or null
     * when it must be routed each time ({@link #route}): several statements in one text, a multi-row INSERT.
     */
    public static RoutePlan plan(Cluster cluster, ParsedSql parsed) {
        StatementKind kind = parsed.kind();
        if ((kind == StatementKind.READ || kind == StatementKind.WRITE) && !parsed.statements().isEmpty()) {
            return parsed.statements().size() == 1 ? shape(cluster, parsed.statements().get(0)) : null;
        }
        return new RoutePlan.Fixed(route(cluster, parsed, BindValues.NONE)); // no bind value is read on this path
    }

    private static Decision routeOne(Cluster cluster, Statement s, BindValues params, String singleSql) {
        RoutePlan plan = shape(cluster, s);
        return plan != null ? plan.route(params) : routeInsert(cluster, (Insert) s, params, singleSql);
    }

    /** What routing one statement needs besides its bind values; null for an INSERT of several rows ({@link #routeInsert}). */
    private static RoutePlan shape(Cluster cluster, Statement s) {
        int n = cluster.shardCount();
        if (s instanceof Insert insert) {
            return insertShape(cluster, insert);
        }
        if (s instanceof Update update) {
            TableName table = tableName(update.getTable());
            ShardedTable sharded = cluster.shardedTable(table).orElse(null);
            if (sharded == null) {
                return fixed(Decision.to(StatementKind.WRITE, Decision.all(n), true, false));
            }
            for (UpdateSet set : update.getUpdateSets()) {
                for (Column c : set.getColumns()) {
                    if (Identifiers.columnName(c.getColumnName()).equals(sharded.column())) {
                        return fixed(Decision.refuse(StatementKind.WRITE, SqlState.FEATURE_NOT_SUPPORTED, "UPDATE of shard key "
                                + table + "." + sharded.column() + " is not supported through the proxy (the row would "
                                + "have to move to another shard); DELETE and INSERT the row instead"));
                    }
                }
            }
            return keyed(cluster, sharded, names(update.getTable()), update.getWhere(), true);
        }
        if (s instanceof Delete delete) {
            TableName table = tableName(delete.getTable());
            ShardedTable sharded = cluster.shardedTable(table).orElse(null);
            if (sharded == null) {
                return fixed(Decision.to(StatementKind.WRITE, Decision.all(n), true, false));
            }
            return keyed(cluster, sharded, names(delete.getTable()), delete.getWhere(), true);
        }
        if (s instanceof Select select) {
            Set<TableName> tables = tables(s);
            List<ShardedTable> shardedTables = tables.stream().map(cluster::shardedTable)
                    .flatMap(o -> o.stream()).toList();
            if (shardedTables.isEmpty()) {
                return fixed(Decision.any(StatementKind.READ));
            }
            if (select instanceof PlainSelect plain && plain.getFromItem() instanceof Table from) {
                ShardedTable sharded = cluster.shardedTable(tableName(from)).orElse(null);
                if (sharded != null) {
                    return keyed(cluster, sharded, names(from), plain.getWhere(), false);
                }
            }
            return fixed(Decision.to(StatementKind.READ, Decision.all(n), false, true));
        }
        return fixed(Decision.to(StatementKind.ALL_SHARDS_WRITE, Decision.all(n), true, false));
    }

    private static RoutePlan fixed(Decision d) {
        return new RoutePlan.Fixed(d);
    }

    private static RoutePlan keyed(Cluster cluster, ShardedTable sharded, Set<String> names, Expression where, boolean write) {
        StatementKind kind = write ? StatementKind.WRITE : StatementKind.READ;
        List<KeyRef> keys = new KeyFinder(sharded.column(), names).find(where);
        if (keys == null) {
            return fixed(Decision.to(kind, Decision.all(cluster.shardCount()), write, true));
        }
        ShardFunction f = cluster.shardFunction(sharded.table()).orElseThrow();
        return new RoutePlan.Keyed(kind, write, f, keys, "shard key " + sharded.table() + "." + sharded.column());
    }

    /** An INSERT of one row, or a refusal any INSERT gets; null for several rows ({@link #routeInsert}). */
    private static RoutePlan insertShape(Cluster cluster, Insert insert) {
        TableName table = tableName(insert.getTable());
        ShardedTable sharded = cluster.shardedTable(table).orElse(null);
        if (sharded == null) {
            return fixed(Decision.to(StatementKind.WRITE, Decision.all(cluster.shardCount()), true, false));
        }
        String where = "INSERT into sharded table " + table;
        if (insert.getColumns() == null || keyIndex(insert, sharded) < 0
                || !(insert.getSelect() instanceof net.sf.jsqlparser.statement.select.Values values)) {
            return fixed(routeInsert(cluster, insert, BindValues.NONE, null)); // refused without reading a row
        }
        List<ExpressionList<?>> rows = rows(values.getExpressions());
        if (rows.size() != 1) {
            return null;
        }
        ExpressionList<?> row = rows.get(0);
        int keyIndex = keyIndex(insert, sharded);
        KeyRef key = keyIndex < row.size() ? KeyFinder.value(row.get(keyIndex)) : null;
        if (key == null) {
            return fixed(Decision.refuse(StatementKind.WRITE, SqlState.FEATURE_NOT_SUPPORTED, where + ": the shard key of row "
                    + "1 is an expression; give it as a literal or a bind parameter"));
        }
        return new RoutePlan.Keyed(StatementKind.WRITE, true, cluster.shardFunction(table).orElseThrow(), List.of(key), where);
    }

    /** The position of the shard key in the INSERT's column list (the last one naming it), -1 when absent. */
    private static int keyIndex(Insert insert, ShardedTable sharded) {
        int keyIndex = -1;
        for (int i = 0; i < insert.getColumns().size(); i++) {
            if (Identifiers.columnName(insert.getColumns().get(i).getColumnName()).equals(sharded.column())) {
                keyIndex = i;
            }
        }
        return keyIndex;
    }

    private static Decision routeInsert(Cluster cluster, Insert insert, BindValues params, String singleSql) {
        TableName table = tableName(insert.getTable());
        ShardedTable sharded = cluster.shardedTable(table).orElse(null);
        if (sharded == null) {
            return Decision.to(StatementKind.WRITE, Decision.all(cluster.shardCount()), true, false);
        }
        String where = "INSERT into sharded table " + table;
        if (insert.getColumns() == null) {
            return Decision.refuse(StatementKind.WRITE, SqlState.FEATURE_NOT_SUPPORTED, where + " has no column list; name "
                    + "the columns (including shard key " + sharded.column() + ") so the proxy can find the key");
        }
        int keyIndex = keyIndex(insert, sharded);
        if (keyIndex < 0) {
            return Decision.refuse(StatementKind.WRITE, SqlState.FEATURE_NOT_SUPPORTED, where + " does not set shard key "
                    + sharded.column() + "; every row needs its key so the proxy knows its shard");
        }
        if (!(insert.getSelect() instanceof net.sf.jsqlparser.statement.select.Values values)) {
            return Decision.refuse(StatementKind.WRITE, SqlState.FEATURE_NOT_SUPPORTED, where + " takes its rows from a "
                    + "query; only INSERT ... VALUES can be routed (or run it on each shard directly)");
        }
        List<ExpressionList<?>> rows = rows(values.getExpressions());
        ShardFunction f = cluster.shardFunction(table).orElseThrow();
        Map<Integer, List<Integer>> rowsByShard = new TreeMap<>();
        boolean usesParams = false;
        for (int r = 0; r < rows.size(); r++) {
            ExpressionList<?> row = rows.get(r);
            KeyRef key = keyIndex < row.size() ? KeyFinder.value(row.get(keyIndex)) : null;
            if (key == null) {
                return Decision.refuse(StatementKind.WRITE, SqlState.FEATURE_NOT_SUPPORTED, where + ": the shard key of row "
                        + (r + 1) + " is an expression; give it as a literal or a bind parameter");
            }
            usesParams |= key instanceof KeyRef.Param;
            try {
                rowsByShard.computeIfAbsent(shardOf(f, key, params), k -> new ArrayList<>()).add(r);
            } catch (ShardKeyParseException | IndexOutOfBoundsException e) {
                return Decision.refuse(StatementKind.WRITE, SqlState.INVALID_PARAMETER_VALUE, where + ": " + e.getMessage());
            }
        }
        if (rowsByShard.size() == 1) {
            return Decision.to(StatementKind.WRITE, new int[] {rowsByShard.keySet().iterator().next()}, true, true);
        }
        if (usesParams || singleSql == null) {
            return Decision.refuse(StatementKind.WRITE, SqlState.FEATURE_NOT_SUPPORTED, where + ": its rows belong to "
                    + "different shards and use bind parameters; send one row per statement (a JDBC batch does)");
        }
        return Decision.split(InsertSplitter.split(singleSql, rowsByShard));
    }

    /**
     * The rows of a VALUES list. JSqlParser gives one row as a parenthesised list of values and several
     * rows as a plain list of parenthesised rows (a value may itself be parenthesised: {@code (('1'), ('x'))}).
     */
    public static List<ExpressionList<?>> rows(ExpressionList<?> values) {
        boolean multi = !(values instanceof net.sf.jsqlparser.expression.operators.relational.ParenthesedExpressionList<?>)
                && !values.isEmpty() && values.stream().allMatch(v -> v instanceof ExpressionList<?>);
        if (!multi) {
            return List.of(values);
        }
        List<ExpressionList<?>> rows = new ArrayList<>();
        values.forEach(v -> rows.add((ExpressionList<?>) v));
        return rows;
    }

    /**
     * The shard of one row's shard-key expression in an INSERT ... VALUES (a literal, {@code $n} or NULL),
     * or -1 when the expression is computed and cannot be placed.
     *
     * @throws ShardKeyParseException    the value is not of the key's type
     * @throws IndexOutOfBoundsException {@code $n} is not bound
     */
    public static int shardOfValue(ShardFunction f, Expression e, BindValues params) {
        KeyRef key = KeyFinder.value(e);
        return key == null ? -1 : shardOf(f, key, params);
    }

    static int shardOf(ShardFunction f, KeyRef key, BindValues params) {
        if (key instanceof KeyRef.Null) {
            return 0;
        }
        if (key instanceof KeyRef.Literal l) {
            return f.shardOfText(l.text());
        }
        int index = ((KeyRef.Param) key).index();
        if (index < 1 || index > params.count()) {
            throw new IndexOutOfBoundsException("parameter $" + index + " is not bound");
        }
        byte[] value = params.value(index);
        if (value == null) {
            return 0;
        }
        if (params.format(index) == 0) {
            return f.shardOfText(new String(value, StandardCharsets.UTF_8));
        }
        ShardKeyType type = f.keyType();
        if (type == ShardKeyType.BIGINT || type == ShardKeyType.INTEGER) {
            // a client may bind an integer key as int2/int4/int8: the value, not the width, decides
            long v = switch (value.length) {
                case 2 -> ByteBuffer.wrap(value).getShort();
                case 4 -> ByteBuffer.wrap(value).getInt();
                case 8 -> ByteBuffer.wrap(value).getLong();
                default -> throw new ShardKeyParseException("a binary integer parameter has " + value.length + " bytes");
            };
            return f.shardOf(v);
        }
        return f.shardOfBinary(value, 0, value.length);
    }

    static TableName tableName(Table t) {
        String name = Identifiers.unquote(t.getName());
        String schema = t.getSchemaName() == null ? "public" : Identifiers.unquote(t.getSchemaName());
        return new TableName(schema, name);
    }

    private static Set<String> names(Table t) {
        Set<String> names = new HashSet<>();
        names.add(Identifiers.unquote(t.getName()));
        if (t.getAlias() != null) {
            names.add(Identifiers.unquote(t.getAlias().getName()));
        }
        return names;
    }

    private static Set<TableName> tables(Statement s) {
        Set<TableName> out = new HashSet<>();
        try {
            for (String name : new TablesNamesFinder<>().getTables(s)) {
                out.add(Identifiers.tableName(name));
            }
        } catch (RuntimeException e) {
            // unusual syntax the finder does not walk: no table known
        }
        return out;
    }

    private static String abbreviate(String sql) {
        String s = sql.strip().replaceAll("\\s+", " ");
        return s.length() > 120 ? s.substring(0, 117) + "..." : s;
    }
}
