package dev.pgreshard.proxy.sharded.plan;

import net.sf.jsqlparser.expression.AnalyticExpression;
import net.sf.jsqlparser.expression.AnalyticType;
import net.sf.jsqlparser.expression.Expression;
import net.sf.jsqlparser.expression.ExpressionVisitorAdapter;
import net.sf.jsqlparser.expression.Function;
import net.sf.jsqlparser.expression.LongValue;
import net.sf.jsqlparser.expression.operators.relational.ExpressionList;
import net.sf.jsqlparser.schema.Column;
import net.sf.jsqlparser.statement.select.AllColumns;
import net.sf.jsqlparser.statement.select.OrderByElement;
import net.sf.jsqlparser.statement.select.PlainSelect;
import net.sf.jsqlparser.statement.select.SelectItem;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.StringJoiner;

/**
 * Aggregates and GROUP BY across shards, in two phases. Each shard computes partial aggregates per
 * group: count, sum, min, max, bool_and/bool_or as themselves, avg as sum and count, and an
 * {@code agg(DISTINCT x)} by grouping on x too. The lead shard then merges them with PostgreSQL's own
 * operators: count = sum of counts (0 on no rows), sum = sum of sums cast back to the type the shards
 * returned (sum(int) is bigint, sum(bigint) numeric, as in one database), avg = sum / count in numeric
 * (numeric_div, exactly as avg(int/bigint/numeric) computes it), min/max over the shards' values in their
 * collation, {@code agg(DISTINCT x)} over the deduplicated x; then evaluates the client's select list,
 * HAVING, ORDER BY, LIMIT and OFFSET on the merged groups. Sum and avg of floating-point values depend on
 * the order of addition, so they are refused (cast to numeric).
 */
final class AggregatePlanner {
    private static final Set<String> MERGEABLE = Set.of("count", "sum", "min", "max", "avg", "bool_and", "bool_or", "every");
    private static final Set<String> OTHER_AGGREGATES = Set.of("string_agg", "array_agg", "json_agg", "jsonb_agg",
            "json_object_agg", "jsonb_object_agg", "stddev", "stddev_pop", "stddev_samp", "variance", "var_pop", "var_samp",
            "corr", "covar_pop", "covar_samp", "regr_avgx", "regr_avgy", "regr_count", "regr_intercept", "regr_r2",
            "regr_slope", "regr_sxx", "regr_sxy", "regr_syy", "percentile_cont", "percentile_disc", "mode", "bit_and",
            "bit_or", "bit_xor", "xmlagg", "any_value", "range_agg", "range_intersect_agg", "rank", "dense_rank",
            "percent_rank", "cume_dist");
    private static final String FLOAT_SUM = "%s over a floating-point value depends on the order in which the rows are "
            + "added, so the proxy cannot merge it exactly across shards; cast the argument to numeric (%s(x::numeric))";

    private AggregatePlanner() {
    }

    static boolean isAggregate(PlainSelect p) {
        if (p.getGroupBy() != null || p.getHaving() != null) {
            return true;
        }
        Collector c = new Collector();
        p.getSelectItems().forEach(i -> i.getExpression().accept(c, null));
        if (p.getOrderByElements() != null) {
            p.getOrderByElements().forEach(o -> o.getExpression().accept(c, null));
        }
        return !c.found.isEmpty() || c.refused != null;
    }

    static String lowerName(String name) {
        return name.toLowerCase(Locale.ROOT).replace("\"", "");
    }

    /** Aggregate calls (by text), in order of appearance; nested calls are not walked (PostgreSQL refuses them). */
    private static final class Collector extends ExpressionVisitorAdapter<Void> {
        final Map<String, Expression> found = new LinkedHashMap<>();
        String refused;

        @Override
        public <S> Void visit(Function f, S context) {
            String n = lowerName(f.getName());
            if (MERGEABLE.contains(n)) {
                found.putIfAbsent(f.toString(), f);
                return null;
            }
            if (OTHER_AGGREGATES.contains(n) && refused == null) {
                refused = n;
            }
            return super.visit(f, context);
        }

        @Override
        public <S> Void visit(AnalyticExpression a, S context) {
            String n = lowerName(a.getName());
            if (a.getType() == AnalyticType.FILTER_ONLY && MERGEABLE.contains(n)) {
                found.putIfAbsent(a.toString(), a);
                return null;
            }
            if (refused == null) {
                refused = n;
            }
            return super.visit(a, context);
        }
    }

    /** One column of the shards' rows. */
    private record Partial(String sql, boolean collated, String exactCheck) {
    }

    static ReadPlan plan(PlainSelect p, BoundParams params) throws Unplannable {
        for (SelectItem<?> item : p.getSelectItems()) {
            if (item.getExpression() instanceof AllColumns) {
                throw new Unplannable("SELECT * in a grouped query across shards: name the columns");
            }
        }
        if (p.getGroupBy() != null && p.getGroupBy().getGroupingSets() != null && !p.getGroupBy().getGroupingSets().isEmpty()) {
            throw new Unplannable("GROUPING SETS / ROLLUP / CUBE are not merged across shards; group by plain expressions");
        }
        Collector c = new Collector();
        p.getSelectItems().forEach(i -> i.getExpression().accept(c, null));
        if (p.getHaving() != null) {
            p.getHaving().accept(c, null);
        }
        if (p.getOrderByElements() != null) {
            p.getOrderByElements().forEach(o -> o.getExpression().accept(c, null));
        }
        if (c.refused != null) {
            throw new Unplannable("the aggregate " + c.refused + "() cannot be merged exactly across shards (the "
                    + "proxy merges count, sum, avg, min, max, bool_and, bool_or); filter on the shard key, or "
                    + "compute it in the application");
        }
        // group keys first: the client's GROUP BY, then the arguments of DISTINCT aggregates
        List<String> keys = new ArrayList<>();
        List<Expression> groupBy = new ArrayList<>();
        if (p.getGroupBy() != null && p.getGroupBy().getGroupByExpressionList() != null) {
            for (Object o : p.getGroupBy().getGroupByExpressionList()) {
                Expression e = (Expression) o;
                if (e instanceof Column col && col.getTable() == null && aliasClash(p, col)) {
                    throw new Unplannable("GROUP BY " + col + " names both an output column and maybe a table column; "
                            + "group by the expression itself");
                }
                Expression r = SelectListRefs.resolve(e, p, "GROUP BY");
                groupBy.add(r);
                if (!keys.contains(r.toString())) {
                    keys.add(r.toString());
                }
            }
        }
        int groupKeys = keys.size();
        for (Map.Entry<String, Expression> a : c.found.entrySet()) { // DISTINCT aggregates group by their argument
            Expression agg = a.getValue();
            if (agg instanceof Function f ? f.isDistinct() : ((AnalyticExpression) agg).isDistinct()) {
                String arg = argument(agg);
                if (agg instanceof AnalyticExpression ae && ae.getFilterExpression() != null) {
                    throw new Unplannable(a.getKey() + ": DISTINCT with FILTER is not merged across shards; write "
                            + "agg(DISTINCT CASE WHEN <filter> THEN x END)");
                }
                if (arg == null || arg.contains(",")) {
                    throw new Unplannable(a.getKey() + ": only a DISTINCT aggregate of one expression is merged across shards");
                }
                if (!keys.contains(arg)) {
                    keys.add(arg);
                }
            }
        }
        List<Partial> partials = new ArrayList<>();
        keys.forEach(k -> partials.add(new Partial(k, true, null)));
        Map<String, String> merged = new LinkedHashMap<>();
        List<Object[]> aggregatePartials = new ArrayList<>(); // [aggregate text, kind, partial indexes...]
        for (Map.Entry<String, Expression> a : c.found.entrySet()) {
            Expression agg = a.getValue();
            String name = lowerName(agg instanceof Function f ? f.getName() : ((AnalyticExpression) agg).getName());
            boolean distinct = agg instanceof Function f ? f.isDistinct() : ((AnalyticExpression) agg).isDistinct();
            Expression filter = agg instanceof AnalyticExpression ae ? ae.getFilterExpression() : null;
            String arg = argument(agg);
            if (distinct) {
                aggregatePartials.add(new Object[] {a.getKey(), "distinct:" + name, keys.indexOf(arg)});
                continue;
            }
            String filterSql = filter == null ? "" : " FILTER (WHERE " + filter + ")";
            switch (name) {
                case "avg" -> {
                    partials.add(new Partial("sum(" + arg + ")" + filterSql, false, String.format(FLOAT_SUM, "avg", "avg")));
                    partials.add(new Partial("count(" + arg + ")" + filterSql, false, null));
                    aggregatePartials.add(new Object[] {a.getKey(), name, partials.size() - 2, partials.size() - 1});
                }
                case "sum" -> {
                    partials.add(new Partial(a.getKey(), false, String.format(FLOAT_SUM, "sum", "sum")));
                    aggregatePartials.add(new Object[] {a.getKey(), name, partials.size() - 1});
                }
                case "min", "max" -> {
                    partials.add(new Partial(a.getKey(), true, null));
                    aggregatePartials.add(new Object[] {a.getKey(), name, partials.size() - 1});
                }
                default -> {
                    partials.add(new Partial(a.getKey(), false, null));
                    aggregatePartials.add(new Object[] {a.getKey(), name, partials.size() - 1});
                }
            }
        }
        int n = partials.size();
        List<Integer> collated = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            if (partials.get(i).collated()) {
                collated.add(i);
            }
        }
        int[] collationOf = new int[n + collated.size()];
        java.util.Arrays.fill(collationOf, -1);
        String[] exact = new String[n + collated.size()];
        for (int j = 0; j < collated.size(); j++) {
            collationOf[collated.get(j)] = n + j;
        }
        for (int i = 0; i < n; i++) {
            exact[i] = partials.get(i).exactCheck();
        }
        for (Object[] ap : aggregatePartials) {
            String kind = (String) ap[1];
            merged.put((String) ap[0], mergeSql(kind, ap));
        }
        // the shards' statement
        StringJoiner items = new StringJoiner(", ", "SELECT ", "");
        partials.forEach(pa -> items.add(pa.sql()));
        collated.forEach(i -> items.add(ReadPlanner.collationOf(partials.get(i).sql())));
        StringBuilder shard = new StringBuilder(items.toString()).append(ReadPlanner.fromWhere(p));
        if (!keys.isEmpty()) {
            StringJoiner g = new StringJoiner(", ", " GROUP BY ", "");
            for (int i = 0; i < keys.size(); i++) {
                g.add(Integer.toString(i + 1));
            }
            shard.append(g);
        }
        // the lead shard's statement
        Map<String, String> replacements = new LinkedHashMap<>(merged);
        for (int i = 0; i < groupKeys; i++) {
            replacements.putIfAbsent(keys.get(i), FinalQuery.ref(i));
        }
        Set<String> outputNames = new HashSet<>();
        List<String> rendered = new ArrayList<>();
        FinalRenderer.Replacements lookup = e -> replacements.get(e.toString());
        int[] passThrough = new int[p.getSelectItems().size()];
        boolean[] unaliased = new boolean[passThrough.length];
        for (SelectItem<?> item : p.getSelectItems()) {
            String name = item.getAlias() != null ? item.getAlias().getName() : null;
            String out = FinalRenderer.render(item.getExpression(), lookup, params, Set.of());
            int key = keys.indexOf(item.getExpression().toString());
            passThrough[rendered.size()] = key >= 0 && key < groupKeys && out.equals(FinalQuery.ref(key)) ? key : -1;
            unaliased[rendered.size()] = name == null;
            rendered.add(out + (name != null ? " AS " + name : " AS " + FinalQuery.quote(ColumnNames.of(item.getExpression()))));
            outputNames.add(name != null ? name : ColumnNames.of(item.getExpression()));
        }
        StringBuilder f = new StringBuilder("SELECT ");
        if (p.getDistinct() != null) {
            f.append("DISTINCT ");
            if (p.getDistinct().getOnSelectItems() != null) {
                StringJoiner on = new StringJoiner(", ", "ON (", ") ");
                for (SelectItem<?> item : p.getDistinct().getOnSelectItems()) {
                    on.add(FinalRenderer.render(item.getExpression(), lookup, params, outputNames));
                }
                f.append(on);
            }
        }
        f.append(String.join(", ", rendered)).append(" FROM ").append(FinalQuery.M).append('F').append(FinalQuery.M);
        if (groupKeys > 0) {
            StringJoiner g = new StringJoiner(", ", " GROUP BY ", "");
            for (int i = 0; i < groupKeys; i++) {
                g.add(FinalQuery.ref(i));
            }
            f.append(g);
        }
        if (p.getHaving() != null) {
            f.append(" HAVING ").append(FinalRenderer.render(p.getHaving(), lookup, params, Set.of()));
        }
        if (p.getOrderByElements() != null && !p.getOrderByElements().isEmpty()) {
            StringJoiner order = new StringJoiner(", ", " ORDER BY ", "");
            for (OrderByElement o : p.getOrderByElements()) {
                String e = o.getExpression() instanceof LongValue pos ? pos.toString()
                        : FinalRenderer.render(o.getExpression(), lookup, params, outputNames);
                order.add(e + ReadPlanner.direction(o));
            }
            f.append(order);
        }
        if (p.getLimit() != null && !p.getLimit().isLimitAll()) {
            Long limit = params.evalCount(p.getLimit().getRowCount(), "LIMIT");
            if (limit != null) {
                f.append(" LIMIT ").append(limit);
            }
        }
        if (p.getOffset() != null) {
            Long offset = params.evalCount(p.getOffset().getOffset(), "OFFSET");
            if (offset != null) {
                f.append(" OFFSET ").append(offset);
            }
        }
        FinalQuery fq = new FinalQuery(f.toString(), collationOf, exact, 0, collated.size(), passThrough, unaliased);
        List<String> steps = List.of(
                "each shard computes partial aggregates" + (keys.isEmpty() ? "" : " per group of " + String.join(", ", keys)),
                "the lead shard merges them and evaluates the select list, HAVING, ORDER BY and LIMIT: " + fq.describe());
        return new ReadPlan(ReadPlan.Kind.FINAL, shard.toString(), n + collated.size(), fq, null, steps, null, List.of());
    }

    private static boolean aliasClash(PlainSelect p, Column col) {
        for (SelectItem<?> item : p.getSelectItems()) {
            if (item.getAlias() != null && item.getAlias().getName().equals(col.getColumnName())
                    && !item.getExpression().toString().equals(col.toString())) {
                return true;
            }
        }
        return false;
    }

    /** The argument text of an aggregate call, null for count(*). */
    private static String argument(Expression agg) {
        if (agg instanceof Function f) {
            if (f.isAllColumns() || f.getParameters() == null) {
                return null;
            }
            ExpressionList<?> ps = f.getParameters();
            if (ps.size() == 1 && ps.get(0) instanceof AllColumns) {
                return null;
            }
            StringJoiner j = new StringJoiner(", ");
            ps.forEach(e -> j.add(e.toString()));
            return j.toString();
        }
        AnalyticExpression a = (AnalyticExpression) agg;
        return a.isAllColumns() || a.getExpression() == null || a.getExpression() instanceof AllColumns
                ? null : a.getExpression().toString();
    }

    private static String mergeSql(String kind, Object[] ap) {
        int i = (Integer) ap[2];
        if (kind.startsWith("distinct:")) {
            return kind.substring("distinct:".length()) + "(DISTINCT " + FinalQuery.ref(i) + ")";
        }
        return switch (kind) {
            case "count" -> "coalesce(sum(" + FinalQuery.raw(i) + "), 0)::int8";
            case "sum" -> "CAST(sum(" + FinalQuery.raw(i) + ") AS " + FinalQuery.type(i) + ")";
            case "min", "max" -> kind + "(" + FinalQuery.ref(i) + ")";
            case "avg" -> "(sum(" + FinalQuery.raw(i) + ")::numeric / sum(" + FinalQuery.raw((Integer) ap[3]) + ")::numeric)";
            case "bool_and", "every" -> "bool_and(" + FinalQuery.raw(i) + ")";
            case "bool_or" -> "bool_or(" + FinalQuery.raw(i) + ")";
            default -> throw new IllegalStateException(kind);
        };
    }
}
