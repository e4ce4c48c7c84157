package dev.pgreshard.proxy.sharded.plan;

import dev.pgreshard.core.sharding.ShardFunction;
import dev.pgreshard.core.sharding.ShardKeyParseException;
import dev.pgreshard.core.topology.Cluster;
import dev.pgreshard.core.topology.ShardedTable;
import dev.pgreshard.core.topology.TableName;
import dev.pgreshard.proxy.protocol.SqlState;
import dev.pgreshard.proxy.routing.BindValues;
import dev.pgreshard.proxy.routing.Identifiers;
import dev.pgreshard.proxy.routing.ParsedSql;
import dev.pgreshard.proxy.routing.ShardRouter;
import net.sf.jsqlparser.JSQLParserException;
import net.sf.jsqlparser.expression.Expression;
import net.sf.jsqlparser.expression.StringValue;
import net.sf.jsqlparser.expression.operators.relational.ExpressionList;
import net.sf.jsqlparser.expression.operators.relational.ParenthesedExpressionList;
import net.sf.jsqlparser.parser.CCJSqlParserUtil;
import net.sf.jsqlparser.schema.Column;
import net.sf.jsqlparser.schema.Table;
import net.sf.jsqlparser.statement.Statement;
import net.sf.jsqlparser.statement.insert.Insert;
import net.sf.jsqlparser.statement.insert.InsertConflictTarget;
import net.sf.jsqlparser.statement.select.Values;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * An INSERT ... VALUES into a sharded table that leaves the shard key to the key column's default: the
 * column is not listed, a row gives it as DEFAULT, or the statement is {@code DEFAULT VALUES}. The proxy
 * draws the values itself (as many as rows need, from the column's sequence), writes them into those
 * rows as literals and sends each shard only its rows ({@link #place}). One PostgreSQL would have drawn
 * the same sequence for the same rows in the same order; the client cannot tell the difference.
 * What cannot be made exact this way is refused ({@link #refusal}).
 */
public final class KeylessInsert {
    private final String sql;
    private final TableName table;
    private final String keyColumn;
    /** The key's position in the column list; -1 when it is not listed. */
    private final int keyIndex;
    /** Per row: its key comes from the default. */
    private final boolean[] defaulted;
    private final int needed;
    private final boolean overriding;
    private final boolean returning;
    private final boolean doNothing;
    private final String refusal;

    private KeylessInsert(String sql, TableName table, String keyColumn, int keyIndex, boolean[] defaulted, boolean overriding,
                          boolean returning, boolean doNothing, String refusal) {
        this.sql = sql;
        this.table = table;
        this.keyColumn = keyColumn;
        this.keyIndex = keyIndex;
        this.defaulted = defaulted;
        int n = 0;
        for (boolean d : defaulted) {
            n += d ? 1 : 0;
        }
        this.needed = n;
        this.overriding = overriding;
        this.returning = returning;
        this.doNothing = doNothing;
        this.refusal = refusal;
    }

    private static KeylessInsert refused(String message) {
        return new KeylessInsert(null, null, null, -1, new boolean[0], false, false, false, message);
    }

    /**
     * The keyless INSERT in {@code parsed}, or null when it is none (then {@link ShardRouter} routes it). A
     * keyless INSERT the proxy cannot place exactly comes back with its {@link #refusal}.
     */
    public static KeylessInsert detect(Cluster cluster, ParsedSql parsed) {
        List<Statement> statements = parsed.statements();
        for (Statement s : statements) {
            if (!(s instanceof Insert insert)) {
                continue;
            }
            ShardedTable sharded = cluster.shardedTable(tableName(insert.getTable())).orElse(null);
            if (sharded == null || !leavesKeyToDefault(insert, sharded.column())) {
                continue;
            }
            String where = "INSERT into sharded table " + sharded.table() + " without shard key " + sharded.column();
            if (statements.size() > 1) {
                return refused(where + " is one of several statements in this query; send it alone so the proxy can "
                        + "give its rows their keys");
            }
            return of(parsed.sql(), insert, sharded, where);
        }
        return null;
    }

    private static KeylessInsert of(String sql, Insert insert, ShardedTable sharded, String where) {
        if (insert.getWithItemsList() != null && !insert.getWithItemsList().isEmpty()) {
            return refused(where + " has a WITH clause; the proxy places only plain INSERT ... VALUES rows: give the key, "
                    + "or move the WITH query into the application");
        }
        if (!insert.isOnlyDefaultValues() && !(insert.getSelect() instanceof Values)) {
            return refused(where + " takes its rows from a query, so the proxy cannot give each row its key before "
                    + "it knows the rows; select the key too (e.g. nextval('the_sequence')) and run it on each shard, "
                    + "or insert the rows with VALUES");
        }
        String key = sharded.column();
        boolean doNothing = false;
        if (insert.getConflictAction() != null) {
            InsertConflictTarget target = insert.getConflictTarget();
            boolean keyed = target != null && target.getConstraintName() == null && target.getIndexColumnNames() != null
                    && target.getIndexColumnNames().stream().anyMatch(c -> Identifiers.columnName(c).equals(key));
            if (!keyed) {
                return refused(where + " has ON CONFLICT with an arbiter that does not include " + key + ": the conflicting "
                        + "row may live on another shard than the one the new key picks, so the answer could differ from one "
                        + "database's; name the conflict columns including " + key + " (ON CONFLICT (" + key + ", ...)), "
                        + "or give the key");
            }
            doNothing = insert.getConflictAction().getConflictActionType()
                    == net.sf.jsqlparser.statement.insert.ConflictActionType.DO_NOTHING;
        }
        int keyIndex = keyIndexIn(insert, key);
        List<ExpressionList<?>> rows = insert.isOnlyDefaultValues() ? List.of(new ExpressionList<>())
                : ShardRouter.rows(insert.getValues().getExpressions());
        boolean[] defaulted = new boolean[rows.size()];
        for (int r = 0; r < rows.size(); r++) {
            defaulted[r] = keyIndex < 0 || (keyIndex < rows.get(r).size() && isDefault(rows.get(r).get(keyIndex)));
        }
        return new KeylessInsert(sql, tableName(insert.getTable()), key, keyIndex, defaulted, insert.isOverriding(),
                insert.getReturningClause() != null, doNothing, null);
    }

    private static boolean leavesKeyToDefault(Insert insert, String key) {
        if (insert.isOnlyDefaultValues()) {
            return true;
        }
        if (insert.getColumns() == null) {
            return false; // no column list: ShardRouter asks for one
        }
        int keyIndex = keyIndexIn(insert, key);
        if (keyIndex < 0) {
            return true;
        }
        if (!(insert.getSelect() instanceof Values values)) {
            return false;
        }
        for (ExpressionList<?> row : ShardRouter.rows(values.getExpressions())) {
            if (keyIndex < row.size() && isDefault(row.get(keyIndex))) {
                return true;
            }
        }
        return false;
    }

    private static int keyIndexIn(Insert insert, String key) {
        if (insert.getColumns() == null) {
            return -1;
        }
        for (int i = 0; i < insert.getColumns().size(); i++) {
            if (Identifiers.columnName(insert.getColumns().get(i).getColumnName()).equals(key)) {
                return i;
            }
        }
        return -1;
    }

    /** The DEFAULT keyword in a VALUES row (the parser reads it as an unqualified, unquoted column). */
    private static boolean isDefault(Object e) {
        return e instanceof Column c && c.getTable() == null && "DEFAULT".equalsIgnoreCase(c.getColumnName());
    }

    private static TableName tableName(Table t) {
        String schema = t.getSchemaName() == null ? "public" : Identifiers.unquote(t.getSchemaName());
        return new TableName(schema, Identifiers.unquote(t.getName()));
    }

    public String refusal() {
        return refusal;
    }

    public TableName table() {
        return table;
    }

    public String keyColumn() {
        return keyColumn;
    }

    /** How many values the rows need from the key's default. */
    public int needed() {
        return needed;
    }

    /** The statement has a RETURNING clause. */
    public boolean returning() {
        return returning;
    }

    public String sql() {
        return sql;
    }

    /**
     * PostgreSQL's refusal (SQLSTATE 428C9) of a row giving its own value to a GENERATED ALWAYS key without
     * OVERRIDING SYSTEM VALUE, or null. Asked before any key is drawn: PostgreSQL refuses before drawing too.
     */
    public String identityRefusal(boolean always) {
        if (always && !overriding && needed < defaulted.length) {
            return "cannot insert a non-DEFAULT value into column \"" + keyColumn + "\": column \"" + keyColumn
                    + "\" is an identity column defined as GENERATED ALWAYS; use OVERRIDING SYSTEM VALUE to override";
        }
        return null;
    }

    /**
     * Each shard's statement: only its rows, every key explicit. {@code values} are the drawn keys in row
     * order (text); {@code always}: the key is GENERATED ALWAYS AS IDENTITY (the rewritten statement says
     * OVERRIDING SYSTEM VALUE, which one database did not need because it drew the value itself).
     */
    public Placement place(ShardFunction f, BindValues params, List<String> values, boolean always) {
        String where = "INSERT into sharded table " + table;
        if (values.size() != needed) {
            throw new IllegalArgumentException("drew " + values.size() + " keys for " + needed + " rows");
        }
        String identity = identityRefusal(always);
        if (identity != null) {
            return Placement.refused("428C9", identity);
        }
        Insert insert = parse(sql);
        List<ExpressionList<?>> rows = insert.isOnlyDefaultValues() ? List.of(new ExpressionList<>())
                : ShardRouter.rows(insert.getValues().getExpressions());
        Map<Integer, List<Integer>> rowsByShard = new TreeMap<>();
        List<Expression> keys = new ArrayList<>();
        int next = 0;
        for (int r = 0; r < rows.size(); r++) {
            int shard;
            if (defaulted[r]) {
                String v = values.get(next++);
                keys.add(new StringValue(v));
                try {
                    shard = f.shardOfText(v);
                } catch (ShardKeyParseException e) {
                    return Placement.refused(SqlState.INVALID_PARAMETER_VALUE, where + ": the default of shard key "
                            + keyColumn + " gave " + v + ", which is not a " + f.keyType() + ": " + e.getMessage());
                }
            } else {
                keys.add(null);
                try {
                    shard = ShardRouter.shardOfValue(f, rows.get(r).get(keyIndex), params);
                } catch (ShardKeyParseException | IndexOutOfBoundsException e) {
                    return Placement.refused(SqlState.INVALID_PARAMETER_VALUE, where + ": " + e.getMessage());
                }
                if (shard < 0) {
                    return Placement.refused(SqlState.FEATURE_NOT_SUPPORTED, where + ": the shard key of row " + (r + 1)
                            + " is an expression; give it as a literal, a bind parameter or DEFAULT");
                }
            }
            rowsByShard.computeIfAbsent(shard, k -> new ArrayList<>()).add(r);
        }
        if (doNothing && returning && rowsByShard.size() > 1) {
            return Placement.refused(SqlState.FEATURE_NOT_SUPPORTED, where + ": ON CONFLICT DO NOTHING with RETURNING over "
                    + "rows of several shards: a skipped row would leave the proxy unable to return the others in the "
                    + "order of the VALUES list; insert these rows one per statement");
        }
        if (keyIndex < 0) {
            ExpressionList<Column> columns = insert.getColumns() == null ? new ExpressionList<>() : insert.getColumns();
            columns.add(new Column(quote(keyColumn)));
            insert.setColumns(columns);
        }
        if (always) {
            insert.setOverriding(true);
        }
        Map<Integer, String> sqlByShard = new LinkedHashMap<>();
        for (Map.Entry<Integer, List<Integer>> e : rowsByShard.entrySet()) {
            ExpressionList<Expression> kept = new ExpressionList<>();
            for (int r : e.getValue()) {
                ParenthesedExpressionList<Expression> row = new ParenthesedExpressionList<>();
                rows.get(r).forEach(x -> row.add((Expression) x));
                if (keys.get(r) != null) {
                    if (keyIndex < 0) {
                        row.add(keys.get(r));
                    } else {
                        row.set(keyIndex, keys.get(r));
                    }
                }
                kept.add(row);
            }
            if (insert.isOnlyDefaultValues()) {
                insert.setOnlyDefaultValues(false);
                insert.setSelect(new Values(kept));
            } else {
                insert.getValues().setExpressions(kept);
            }
            sqlByShard.put(e.getKey(), insert.toString());
        }
        return new Placement(sqlByShard, rowsByShard, rows.size(), null, null);
    }

    private static String quote(String identifier) {
        return "\"" + identifier.replace("\"", "\"\"") + "\"";
    }

    private static Insert parse(String sql) {
        try {
            return (Insert) CCJSqlParserUtil.parse(sql);
        } catch (JSQLParserException e) {
            throw new IllegalStateException("an INSERT parsed once no longer parses", e);
        }
    }

    /**
     * Where the rows go: each shard's statement and the positions (in the client's VALUES list) of its rows,
     * in order; or why not ({@code sqlState}, {@code refusal}).
     */
    public record Placement(Map<Integer, String> sqlByShard, Map<Integer, List<Integer>> rowsByShard, int rowCount,
                            String sqlState, String refusal) {
        static Placement refused(String sqlState, String message) {
            return new Placement(Map.of(), Map.of(), 0, sqlState, message);
        }

        public int[] shards() {
            return sqlByShard.keySet().stream().mapToInt(Integer::intValue).sorted().toArray();
        }
    }
}
