package dev.pgreshard.proxy.sharded.plan;

import dev.pgreshard.core.topology.Cluster;
import dev.pgreshard.core.topology.ShardedTable;
import dev.pgreshard.core.topology.TableName;
import dev.pgreshard.proxy.routing.Identifiers;
import net.sf.jsqlparser.expression.AnalyticExpression;
import net.sf.jsqlparser.expression.AnalyticType;
import net.sf.jsqlparser.expression.Expression;
import net.sf.jsqlparser.expression.ExpressionVisitorAdapter;
import net.sf.jsqlparser.expression.operators.conditional.AndExpression;
import net.sf.jsqlparser.expression.operators.relational.EqualsTo;
import net.sf.jsqlparser.schema.Column;
import net.sf.jsqlparser.schema.Table;
import net.sf.jsqlparser.statement.Statement;
import net.sf.jsqlparser.statement.select.FromItem;
import net.sf.jsqlparser.statement.select.Join;
import net.sf.jsqlparser.statement.select.OrderByElement;
import net.sf.jsqlparser.statement.select.ParenthesedSelect;
import net.sf.jsqlparser.statement.select.PlainSelect;
import net.sf.jsqlparser.statement.select.Select;
import net.sf.jsqlparser.statement.select.SelectItem;
import net.sf.jsqlparser.statement.select.WithItem;
import net.sf.jsqlparser.util.TablesNamesFinder;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * What a read on a sharded database may look like whatever the number of shards it goes to: sharded
 * tables only in the top-level FROM (not in subqueries, CTEs or set operations, whose result each shard
 * would compute from its own rows only), and several sharded tables only when joined on their shard
 * keys (so matching rows share a shard). Window functions need every row: refused on fan-outs.
 */
public final class ShapeCheck {
    /** A sharded table of the top-level FROM, with the names it can be referred to by. */
    record ShardedRef(ShardedTable table, String name, String alias) {
        boolean refersTo(Column c) {
            if (c.getTable() == null || c.getTable().getName() == null) {
                return false;
            }
            String q = Identifiers.unquote(c.getTable().getName());
            return q.equals(alias != null ? alias : name);
        }

        boolean isKey(Column c) {
            return refersTo(c) && Identifiers.columnName(c.getColumnName()).equals(table.column());
        }
    }

    private ShapeCheck() {
    }

    /** The refusal message for a read that touches sharded tables in a way no routing can answer, or null. */
    public static String refusal(Cluster cluster, Statement st, boolean fanOut) {
        if (!(st instanceof Select select)) {
            return null;
        }
        if (!(select instanceof PlainSelect p)) {
            String t = firstSharded(cluster, select);
            return t == null ? null : "a set operation (UNION/INTERSECT/EXCEPT) or parenthesised query reads sharded table "
                    + t + ": each shard would combine only its own rows; run each part as its own statement";
        }
        if (p.getWithItemsList() != null) {
            for (WithItem<?> w : p.getWithItemsList()) {
                String t = firstSharded(cluster, w.getSelect());
                if (t != null) {
                    return "the CTE " + w.getAlias() + " reads sharded table " + t + ": each shard would compute it "
                            + "from its own rows only; inline it as a join on the shard key or run it separately";
                }
            }
        }
        List<FromItem> from = new ArrayList<>();
        if (p.getFromItem() != null) {
            from.add(p.getFromItem());
        }
        if (p.getJoins() != null) {
            p.getJoins().forEach(j -> from.add(j.getRightItem()));
        }
        List<ShardedRef> sharded = new ArrayList<>();
        for (FromItem f : from) {
            if (f instanceof Table t) {
                TableName name = Identifiers.tableName(t.getFullyQualifiedName());
                Optional<ShardedTable> s = cluster.shardedTable(name);
                s.ifPresent(st2 -> sharded.add(new ShardedRef(st2, name.name(),
                        t.getAlias() == null ? null : Identifiers.unquote(t.getAlias().getName()))));
            } else {
                String t = firstShardedIn(cluster, f);
                if (t != null) {
                    return "a subquery in FROM reads sharded table " + t + ": each shard would compute it from its own "
                            + "rows only; join the table directly (on its shard key) or run the subquery separately";
                }
            }
        }
        Finder finder = new Finder(cluster);
        for (SelectItem<?> item : p.getSelectItems()) {
            item.getExpression().accept(finder, null);
        }
        accept(finder, p.getWhere());
        accept(finder, p.getHaving());
        if (p.getJoins() != null) {
            for (Join j : p.getJoins()) {
                j.getOnExpressions().forEach(e -> accept(finder, e));
            }
        }
        if (p.getGroupBy() != null && p.getGroupBy().getGroupByExpressionList() != null) {
            p.getGroupBy().getGroupByExpressionList().forEach(e -> accept(finder, (Expression) e));
        }
        if (p.getOrderByElements() != null) {
            for (OrderByElement o : p.getOrderByElements()) {
                accept(finder, o.getExpression());
            }
        }
        if (finder.subqueryTable != null) {
            return "a subquery reads sharded table " + finder.subqueryTable + ": each shard would compute it from its "
                    + "own rows only; rewrite it as a join on the shard key or run it separately";
        }
        if (sharded.size() > 1) {
            String join = joinRefusal(cluster, p, sharded);
            if (join != null) {
                return join;
            }
        }
        if (fanOut && finder.window != null) {
            return "the window function " + finder.window + " needs the rows of every shard; the proxy does not "
                    + "compute window functions across shards: filter on the shard key, or compute it in the application";
        }
        return null;
    }

    /** Every sharded table after the first must be joined to an earlier one by an equality of their shard keys. */
    private static String joinRefusal(Cluster cluster, PlainSelect p, List<ShardedRef> sharded) {
        List<EqualsTo> equalities = new ArrayList<>();
        conjuncts(p.getWhere(), equalities);
        for (Join j : p.getJoins()) {
            j.getOnExpressions().forEach(e -> conjuncts(e, equalities));
        }
        for (int i = 1; i < sharded.size(); i++) {
            ShardedRef right = sharded.get(i);
            boolean joined = false;
            for (int k = 0; k < i && !joined; k++) {
                ShardedRef left = sharded.get(k);
                boolean sameFunction = cluster.shardFunction(left.table().table()).orElseThrow().keyType()
                        == cluster.shardFunction(right.table().table()).orElseThrow().keyType();
                for (EqualsTo eq : equalities) {
                    if (sameFunction && eq.getLeftExpression() instanceof Column a && eq.getRightExpression() instanceof Column b
                            && ((left.isKey(a) && right.isKey(b)) || (left.isKey(b) && right.isKey(a)))) {
                        joined = true;
                    }
                }
            }
            if (!joined) {
                return "sharded table " + right.table().table() + " is joined to another sharded table without an "
                        + "equality of both shard keys (qualified, e.g. a." + sharded.get(0).table().column() + " = b."
                        + right.table().column() + "), so matching rows may be on different shards; join on the shard "
                        + "keys, or make one of the tables omnisharded";
            }
        }
        return null;
    }

    private static void conjuncts(Expression e, List<EqualsTo> out) {
        if (e instanceof AndExpression a) {
            conjuncts(a.getLeftExpression(), out);
            conjuncts(a.getRightExpression(), out);
        } else if (e instanceof EqualsTo eq) {
            out.add(eq);
        } else if (e instanceof net.sf.jsqlparser.expression.operators.relational.ParenthesedExpressionList<?> l
                && l.size() == 1) {
            conjuncts(l.get(0), out);
        }
    }

    private static void accept(Finder f, Expression e) {
        if (e != null) {
            e.accept(f, null);
        }
    }

    private static String firstSharded(Cluster cluster, Select s) {
        try {
            for (String name : new TablesNamesFinder<>().getTables((Statement) s)) {
                if (cluster.shardedTable(Identifiers.tableName(name)).isPresent()) {
                    return name;
                }
            }
        } catch (RuntimeException e) {
            return "(unreadable)";
        }
        return null;
    }

    private static String firstShardedIn(Cluster cluster, FromItem f) {
        if (f instanceof Select s) {
            return firstSharded(cluster, s);
        }
        try {
            for (String name : TablesNamesFinder.findTablesOrOtherSources("SELECT * FROM " + f)) {
                if (cluster.shardedTable(Identifiers.tableName(name)).isPresent()) {
                    return name;
                }
            }
        } catch (Exception e) {
            return "(unreadable)";
        }
        return null;
    }

    /** Finds subqueries over sharded tables and window functions in expressions. */
    private static final class Finder extends ExpressionVisitorAdapter<Void> {
        private final Cluster cluster;
        String subqueryTable;
        String window;

        Finder(Cluster cluster) {
            this.cluster = cluster;
        }

        @Override
        public <S> Void visit(ParenthesedSelect s, S context) {
            return subquery(s);
        }

        @Override
        public <S> Void visit(Select s, S context) {
            return subquery(s);
        }

        /** A subquery is not walked into: it is refused when it reads a sharded table. */
        private Void subquery(Select s) {
            String t = firstSharded(cluster, s);
            if (t != null && subqueryTable == null) {
                subqueryTable = t;
            }
            return null;
        }

        @Override
        public <S> Void visit(AnalyticExpression a, S context) {
            if (a.getType() != AnalyticType.FILTER_ONLY && window == null) {
                window = a.getName() + "()";
            }
            return super.visit(a, context);
        }
    }
}
