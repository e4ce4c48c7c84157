package dev.pgreshard.proxy.sharded.plan;

import dev.pgreshard.core.topology.Cluster;
import dev.pgreshard.proxy.routing.Decision;
import dev.pgreshard.proxy.routing.ParsedSql;
import net.sf.jsqlparser.expression.Expression;
import net.sf.jsqlparser.expression.LongValue;
import net.sf.jsqlparser.statement.Statement;
import net.sf.jsqlparser.statement.select.AllColumns;
import net.sf.jsqlparser.statement.select.Join;
import net.sf.jsqlparser.statement.select.OrderByElement;
import net.sf.jsqlparser.statement.select.PlainSelect;
import net.sf.jsqlparser.statement.select.SelectItem;

import java.util.ArrayList;
import java.util.List;
import java.util.StringJoiner;

/**
 * Plans a read that goes to several shards (see {@link ReadPlan}). Aggregates and GROUP BY go to
 * {@link AggregatePlanner}; DISTINCT and ORDER BY/LIMIT with a window of at most {@link #FINAL_ROWS}
 * rows are finished by the lead shard over the shards' first rows; larger ordered reads are merged as
 * streams; plain reads are concatenated.
 */
public final class ReadPlanner {
    /** LIMIT + OFFSET up to which the shards' first rows are collected and finished by the lead shard. */
    public static final long FINAL_ROWS = 10_000;

    private ReadPlanner() {
    }

    public static ReadPlan plan(Cluster cluster, Statement st, BoundParams params) {
        String refusal = ShapeCheck.refusal(cluster, st, true);
        if (refusal != null) {
            return ReadPlan.refuse(refusal);
        }
        if (!(st instanceof PlainSelect p)) {
            return ReadPlan.concat();
        }
        try {
            if (p.getFetch() != null) {
                fetchAsLimit(p);
            }
            boolean merges = AggregatePlanner.isAggregate(p) || p.getDistinct() != null || p.getLimit() != null
                    || p.getOffset() != null || (p.getOrderByElements() != null && !p.getOrderByElements().isEmpty());
            if (!merges) {
                return ReadPlan.concat();
            }
            if (p.getForMode() != null || p.getIntoTables() != null) {
                throw new Unplannable("FOR UPDATE/SHARE or INTO with a merged read across shards is not supported; "
                        + "filter on the shard key");
            }
            if (AggregatePlanner.isAggregate(p)) {
                return AggregatePlanner.plan(p, params);
            }
            Long limit = null;
            if (p.getLimit() != null) {
                if (p.getLimit().getOffset() != null) {
                    throw new Unplannable("LIMIT offset, count is not PostgreSQL syntax; write LIMIT n OFFSET m");
                }
                limit = p.getLimit().isLimitAll() ? null : params.evalCount(p.getLimit().getRowCount(), "LIMIT");
            }
            Long offset = p.getOffset() == null ? null : params.evalCount(p.getOffset().getOffset(), "OFFSET");
            long off = offset == null ? 0 : offset;
            if ((limit != null && limit < 0) || off < 0) {
                return ReadPlan.concat(); // every shard answers PostgreSQL's own error
            }
            long window = limit == null ? -1 : (limit > Long.MAX_VALUE - off ? Long.MAX_VALUE : limit + off);
            if (p.getDistinct() != null || (window >= 0 && window <= FINAL_ROWS)) {
                return rows(p, limit, off, window);
            }
            return stream(p, limit, off, window);
        } catch (Unplannable.PostgresRejects r) {
            return ReadPlan.concat(); // every shard answers PostgreSQL's own error
        } catch (Unplannable u) {
            return ReadPlan.refuse(u.getMessage());
        }
    }

    /**
     * For a read: a refusal when its shape cannot be answered exactly, the merge plan when it goes to
     * several shards and needs one, else null (one shard, or rows simply concatenated).
     */
    public static ReadPlan forRead(Cluster cluster, ParsedSql parsed, Decision d, BoundParams params) {
        boolean fanOut = !d.anyShard() && d.shards().length > 1;
        if (parsed.statements().isEmpty()) {
            if (fanOut && mentionsSharded(cluster, parsed.sql())) {
                return ReadPlan.refuse("pgreshard cannot read this statement's syntax, so it cannot tell how to combine the "
                        + "answers of the shards of sharded database '" + cluster.name() + "'; filter on the shard key, or "
                        + "write it in a simpler form");
            }
            return null;
        }
        for (Statement s : parsed.statements()) {
            String refusal = ShapeCheck.refusal(cluster, s, fanOut);
            if (refusal != null) {
                return ReadPlan.refuse(refusal);
            }
        }
        if (!fanOut) {
            return null;
        }
        if (parsed.statements().size() > 1) {
            for (Statement s : parsed.statements()) {
                if (plan(cluster, s, params).kind() != ReadPlan.Kind.CONCAT) {
                    return ReadPlan.refuse("a query of several statements includes one whose answer must be merged across "
                            + "shards (" + s + "); send it as a statement of its own");
                }
            }
            return null;
        }
        ReadPlan plan = plan(cluster, parsed.statements().get(0), params);
        return plan.kind() == ReadPlan.Kind.CONCAT ? null : plan;
    }

    private static boolean mentionsSharded(Cluster cluster, String sql) {
        String lower = sql.toLowerCase(java.util.Locale.ROOT);
        return cluster.shardedTables().keySet().stream()
                .anyMatch(t -> java.util.regex.Pattern.compile("\\b" + java.util.regex.Pattern.quote(t.name().toLowerCase(
                        java.util.Locale.ROOT)) + "\\b").matcher(lower).find());
    }

    /**
     * FETCH FIRST n ROWS ONLY is LIMIT n (WITH TIES is not: refused). The parsed statement is shared (the
     * analyzer caches it), so it is rewritten once, under its lock, into the equivalent LIMIT.
     */
    private static void fetchAsLimit(PlainSelect p) throws Unplannable {
        synchronized (p) {
            var fetch = p.getFetch();
            if (fetch == null) {
                return;
            }
            if (p.getLimit() != null || fetch.getFetchParameters().stream().anyMatch(w -> w.toUpperCase(java.util.Locale.ROOT).contains("TIES"))) {
                throw new Unplannable("FETCH FIRST ... WITH TIES (or with LIMIT) is not merged across shards; write LIMIT n");
            }
            Expression n = fetch.getExpression() != null ? fetch.getExpression() : new LongValue(1);
            p.setLimit(new net.sf.jsqlparser.statement.select.Limit().withRowCount(n));
            p.setFetch(null);
        }
    }

    /** FROM, joins and WHERE of {@code p}, as written. */
    static String fromWhere(PlainSelect p) {
        StringBuilder b = new StringBuilder();
        if (p.getFromItem() != null) {
            b.append(" FROM ").append(p.getFromItem());
        }
        if (p.getJoins() != null) {
            for (Join j : p.getJoins()) {
                b.append(j.isSimple() ? ", " : " ").append(j);
            }
        }
        if (p.getWhere() != null) {
            b.append(" WHERE ").append(p.getWhere());
        }
        return b.toString();
    }

    static String collationOf(String expr) {
        return "pg_collation_for((" + expr + ")::text)";
    }

    static String direction(OrderByElement o) {
        boolean nullsFirst = nullsFirst(o);
        return (o.isAsc() ? " ASC" : " DESC") + (nullsFirst ? " NULLS FIRST" : " NULLS LAST");
    }

    static boolean nullsFirst(OrderByElement o) {
        return o.getNullOrdering() == null ? !o.isAsc() : o.getNullOrdering() == OrderByElement.NullOrdering.NULLS_FIRST;
    }

    /** Order and DISTINCT ON keys as trailing columns (deduplicated by text). */
    private static List<String> keys(PlainSelect p) throws Unplannable {
        List<String> keys = new ArrayList<>();
        if (p.getOrderByElements() != null) {
            for (OrderByElement o : p.getOrderByElements()) {
                String k = SelectListRefs.resolve(o.getExpression(), p, "ORDER BY").toString();
                if (!keys.contains(k)) {
                    keys.add(k);
                }
            }
        }
        if (p.getDistinct() != null && p.getDistinct().getOnSelectItems() != null) {
            for (SelectItem<?> on : p.getDistinct().getOnSelectItems()) {
                String k = SelectListRefs.resolve(on.getExpression(), p, "DISTINCT ON").toString();
                if (!keys.contains(k)) {
                    keys.add(k);
                }
            }
        }
        return keys;
    }

    private static String shardSql(PlainSelect p, List<String> keys, boolean databaseCollation, long window) {
        StringBuilder b = new StringBuilder("SELECT ");
        if (p.getDistinct() != null) {
            b.append(p.getDistinct()).append(' ');
        }
        // the helper columns get names of their own: an unaliased key such as created_at::date would otherwise be
        // named created_at and make the client's ORDER BY created_at ambiguous on the shards
        StringJoiner items = new StringJoiner(", ");
        p.getSelectItems().forEach(i -> items.add(i.toString()));
        for (int i = 0; i < keys.size(); i++) {
            items.add(keys.get(i) + " AS _pgr_k" + i);
        }
        for (int i = 0; i < keys.size(); i++) {
            items.add(collationOf(keys.get(i)) + " AS _pgr_collation" + i);
        }
        if (databaseCollation) {
            items.add("(SELECT datcollate FROM pg_database WHERE datname = current_database()) AS _pgr_datcollate");
        }
        b.append(items).append(fromWhere(p));
        if (p.getOrderByElements() != null && !p.getOrderByElements().isEmpty()) {
            StringJoiner order = new StringJoiner(", ", " ORDER BY ", "");
            p.getOrderByElements().forEach(o -> order.add(o.toString()));
            b.append(order);
        }
        if (window >= 0) {
            b.append(" LIMIT ").append(window);
        }
        return b.toString();
    }

    private static ReadPlan rows(PlainSelect p, Long limit, long offset, long window) throws Unplannable {
        List<String> keys = keys(p);
        int k = keys.size();
        boolean plainDistinct = p.getDistinct() != null && p.getDistinct().getOnSelectItems() == null;
        StringBuilder f = new StringBuilder("SELECT ");
        if (p.getDistinct() != null) {
            f.append("DISTINCT ");
            if (!plainDistinct) {
                StringJoiner on = new StringJoiner(", ", "ON (", ") ");
                for (SelectItem<?> item : p.getDistinct().getOnSelectItems()) {
                    on.add(FinalQuery.ref(keys.indexOf(SelectListRefs.resolve(item.getExpression(), p, "DISTINCT ON").toString())));
                }
                f.append(on);
            }
        }
        f.append(FinalQuery.M).append('S').append(FinalQuery.M);
        if (plainDistinct) {
            for (int i = 0; i < k; i++) {
                f.append(", ").append(FinalQuery.ref(i));
            }
        }
        f.append(" FROM ").append(FinalQuery.M).append('F').append(FinalQuery.M);
        List<String> steps = new ArrayList<>();
        if (p.getOrderByElements() != null && !p.getOrderByElements().isEmpty()) {
            StringJoiner order = new StringJoiner(", ", " ORDER BY ", "");
            for (OrderByElement o : p.getOrderByElements()) {
                order.add(FinalQuery.ref(keys.indexOf(SelectListRefs.resolve(o.getExpression(), p, "ORDER BY").toString())) + direction(o));
            }
            f.append(order);
        }
        if (limit != null) {
            f.append(" LIMIT ").append(limit);
        }
        if (offset > 0) {
            f.append(" OFFSET ").append(offset);
        }
        int[] collationOf = new int[2 * k];
        for (int i = 0; i < 2 * k; i++) {
            collationOf[i] = i < k ? k + i : -1;
        }
        FinalQuery fq = new FinalQuery(f.toString(), collationOf, null, plainDistinct ? k : 0, k, null, null);
        steps.add(window >= 0 ? "each shard returns its first " + window + " rows (LIMIT + OFFSET)"
                : "each shard returns its rows" + (p.getDistinct() != null ? ", deduplicated" : ""));
        steps.add("the lead shard computes the answer over those rows with their collations: " + fq.describe());
        return new ReadPlan(ReadPlan.Kind.FINAL, shardSql(p, keys, false, window), 2 * k, fq, null, steps, null,
                SelectListRefs.starPositions(p));
    }

    private static ReadPlan stream(PlainSelect p, Long limit, long offset, long window) throws Unplannable {
        List<String> keys = keys(p);
        int k = keys.size();
        List<ReadPlan.SortKey> sortKeys = new ArrayList<>();
        if (p.getOrderByElements() != null) {
            for (OrderByElement o : p.getOrderByElements()) {
                String key = SelectListRefs.resolve(o.getExpression(), p, "ORDER BY").toString();
                int i = keys.indexOf(key);
                sortKeys.add(new ReadPlan.SortKey(i, o.isAsc(), nullsFirst(o), k + i, key));
            }
        }
        boolean star = p.getSelectItems().stream().anyMatch(i -> i.getExpression() instanceof AllColumns);
        ReadPlan.StreamSpec spec = new ReadPlan.StreamSpec(sortKeys, 2 * k, limit == null ? -1 : limit, offset,
                star ? -1 : p.getSelectItems().size());
        List<String> steps = new ArrayList<>();
        steps.add(window >= 0 ? "each shard returns its first " + window + " rows in order" : "each shard streams its rows in order");
        steps.add(sortKeys.isEmpty() ? "the proxy passes rows on as they come"
                : "the proxy merges the sorted streams on " + String.join(", ", keys) + " (k-way merge, bounded memory)");
        if (offset > 0 || limit != null) {
            steps.add("the proxy skips " + offset + " rows" + (limit != null ? " and returns " + limit : ""));
        }
        return new ReadPlan(ReadPlan.Kind.STREAM, shardSql(p, keys, true, window), 2 * k + 1, null, spec, steps, null,
                SelectListRefs.starPositions(p));
    }
}
