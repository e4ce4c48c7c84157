package dev.pgreshard.proxy.differential;

import dev.pgreshard.proxy.differential.GeneratedRead.Order;
import dev.pgreshard.proxy.differential.GeneratedRead.Tier;
import dev.pgreshard.proxy.differential.SqlVocabulary.Item;
import dev.pgreshard.proxy.differential.SqlVocabulary.Kind;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Collectors;

/**
 * A seeded generator of read statements over {@link OrdersDataSet}: random combinations of
 * aggregates, GROUP BY, HAVING, ORDER BY, LIMIT/OFFSET, DISTINCT and DISTINCT ON, keyed and keyless,
 * plus shapes whose meaning needs the whole data set (window functions, joins, subqueries, CTEs, set
 * operations), which the proxy may refuse. The fixed {@link CommonReads} come first.
 *
 * <p>Every statement says how far its row order is determined: LIMIT and OFFSET are only generated
 * after an ORDER BY with a unique tiebreaker (which rows a LIMIT keeps among ties is not determined).
 */
final class ReadGenerator {
    private final Random r;
    private final SqlVocabulary v;
    private final long[] customers;
    private int number;
    /** The tier the last {@link #limit} clause allows (FETCH FIRST may be refused). */
    private Tier limitTier = Tier.MUST;

    ReadGenerator(long seed, long[] customers) {
        this.r = new Random(seed);
        this.customers = customers.clone();
        this.v = new SqlVocabulary(r, customers);
    }

    List<GeneratedRead> generate(int count) {
        List<GeneratedRead> out = new ArrayList<>();
        for (CommonReads.Common c : CommonReads.list(customers)) {
            out.add(read("common", c.sql(), c.params(), c.order(), c.orderKeys(), Tier.MUST));
        }
        while (out.size() < count) {
            out.add(next());
        }
        return out;
    }

    private GeneratedRead next() {
        int s = r.nextInt(100);
        if (s < 14) {
            return aggregateOnly();
        } else if (s < 40) {
            return grouped();
        } else if (s < 58) {
            return rows();
        } else if (s < 68) {
            return distinct();
        } else if (s < 74) {
            return distinctOn();
        } else if (s < 79) {
            return omnisharded();
        }
        return RefusableReads.pick(v, this::where, (shape, sql, p, order, tier) -> read(shape, sql, p, order, List.of(), tier));
    }

    private GeneratedRead read(String shape, String sql, Params p, Order order, List<Integer> orderKeys, Tier tier) {
        return new GeneratedRead(++number, shape, sql, List.copyOf(p.first), List.copyOf(p.second), order, List.copyOf(orderKeys), tier);
    }

    /** A WHERE clause: sometimes keyed (one customer, a list, an array), sometimes keyless filters, sometimes both. */
    String where(Params p) {
        List<String> conj = new ArrayList<>();
        if (v.chance(30)) {
            conj.add(v.keyFilter(p));
        }
        int filters = v.chance(50) ? 0 : v.between(1, 2);
        for (int i = 0; i < filters; i++) {
            conj.add(v.keylessFilter(p));
        }
        return conj.isEmpty() ? "" : " WHERE " + String.join(" AND ", conj);
    }

    private static Tier loosest(Tier a, Tier b) {
        return a.ordinal() >= b.ordinal() ? a : b;
    }

    private static Tier sortTier(Kind k) {
        return k.collationSensitive() ? Tier.MAY : k.unusualSort() ? Tier.SHOULD : Tier.MUST;
    }

    /** ASC/DESC and NULLS FIRST/LAST, each sometimes left to the default. */
    private String direction() {
        String d = switch (r.nextInt(3)) {
            case 0 -> "";
            case 1 -> " ASC";
            default -> " DESC";
        };
        String n = switch (r.nextInt(4)) {
            case 0 -> " NULLS FIRST";
            case 1 -> " NULLS LAST";
            default -> "";
        };
        return d + n;
    }

    private List<Item> distinctItems(int n, java.util.function.Supplier<Item> source) {
        Map<String, Item> items = new LinkedHashMap<>();
        for (int i = 0; i < n * 3 && items.size() < n; i++) {
            Item it = source.get();
            items.putIfAbsent(it.expr(), it);
        }
        return new ArrayList<>(items.values());
    }

    /** Output items with optional aliases, as a select list; aliases[i] is null when item i has none. */
    private String selectList(List<Item> items, String[] aliases) {
        List<String> parts = new ArrayList<>();
        for (int i = 0; i < items.size(); i++) {
            aliases[i] = v.chance(30) ? "a" + (i + 1) : null;
            parts.add(items.get(i).expr() + (aliases[i] == null ? "" : " AS " + aliases[i]));
        }
        return String.join(", ", parts);
    }

    /** How an ORDER BY names output item i: its alias, its position or the expression again. */
    private String refer(List<Item> items, String[] aliases, int i) {
        int how = r.nextInt(3);
        if (how == 0 && aliases[i] != null) {
            return aliases[i];
        }
        return how == 1 ? String.valueOf(i + 1) : sortName(items, aliases, items.get(i).expr());
    }

    /**
     * An ORDER BY term for {@code expr}. A bare name in ORDER BY first names an output column (PostgreSQL's
     * SQL92 rule: alias, or the name PostgreSQL gives an unaliased item — {@code created_at::date} is called
     * created_at); when two different output columns carry it, PostgreSQL rejects the statement as ambiguous, so
     * the input column is then named qualified ({@code orders.created_at}), which never matches an output name.
     */
    static String sortName(List<Item> items, String[] aliases, String expr) {
        if (!expr.matches("[a-z_]+")) {
            return expr;
        }
        String first = null;
        for (int i = 0; i < items.size(); i++) {
            String name = aliases != null && aliases[i] != null ? aliases[i] : outputName(items.get(i).expr());
            if (name.equals(expr)) {
                if (first != null && !first.equals(items.get(i).expr())) {
                    return "orders." + expr;
                }
                first = items.get(i).expr();
            }
        }
        return expr;
    }

    /** The name PostgreSQL gives an unaliased item of this vocabulary (FigureColname). */
    static String outputName(String expr) {
        if (expr.matches("[a-z_]+")) {
            return expr;
        }
        java.util.regex.Matcher cast = java.util.regex.Pattern.compile("([a-z_]+)::[a-z0-9_]+").matcher(expr);
        if (cast.matches()) {
            return cast.group(1);
        }
        java.util.regex.Matcher call = java.util.regex.Pattern.compile("([a-z_]+)\\(.*").matcher(expr);
        return call.matches() ? call.group(1) : "?column?";
    }

    /**
     * LIMIT/OFFSET after a total order: mostly small windows (some as parameters, LIMIT 0 among them),
     * sometimes OFFSET alone, LIMIT ALL, a limit beyond the row count, or FETCH FIRST (standard SQL
     * the proxy may refuse, so it makes the statement {@link Tier#SHOULD}).
     */
    private String limit(Params p) {
        limitTier = Tier.MUST;
        int kind = r.nextInt(20);
        if (kind < 8) {
            return "";
        }
        return switch (kind) {
            case 8 -> " OFFSET " + v.between(1, 30);
            case 9 -> " LIMIT ALL OFFSET " + p.add(v.between(0, 10), v.between(0, 10));
            case 10 -> " LIMIT 20000";
            case 11 -> {
                limitTier = Tier.SHOULD;
                yield " FETCH FIRST " + v.between(1, 10) + " ROWS ONLY";
            }
            default -> {
                String sql = " LIMIT " + (v.chance(30) ? p.add(v.between(0, 12), v.between(1, 12)) : String.valueOf(v.between(1, 15)));
                if (v.chance(40)) {
                    sql += " OFFSET " + (v.chance(30) ? p.add(v.between(0, 10), v.between(0, 10)) : String.valueOf(v.between(1, 10)));
                }
                yield sql;
            }
        };
    }

    private GeneratedRead aggregateOnly() {
        Params p = new Params();
        List<Item> aggs = distinctItems(v.between(1, 4), v::aggregate);
        String[] aliases = new String[aggs.size()];
        String sql = "SELECT " + selectList(aggs, aliases) + " FROM orders" + where(p);
        if (v.chance(5)) {
            sql += " HAVING count(*) > 0";
        }
        Tier t = aggs.stream().map(Item::tier).reduce(Tier.MUST, ReadGenerator::loosest);
        return read("aggregate", sql, p, Order.MULTISET, List.of(), t);
    }

    private GeneratedRead grouped() {
        Params p = new Params();
        List<Item> keys = distinctItems(v.between(1, 2), v::groupKey);
        List<Item> aggs = distinctItems(v.between(1, 3), v::aggregate);
        boolean keysSelected = !v.chance(10);
        List<Item> items = new ArrayList<>();
        if (keysSelected && v.chance(70)) {
            items.addAll(keys);
            items.addAll(aggs);
        } else {
            items.addAll(aggs);
            if (keysSelected) {
                items.addAll(keys);
            }
        }
        String[] aliases = new String[items.size()];
        StringBuilder sql = new StringBuilder("SELECT ").append(selectList(items, aliases)).append(" FROM orders").append(where(p));
        List<String> groupBy = new ArrayList<>();
        for (Item k : keys) {
            int at = items.indexOf(k);
            groupBy.add(at >= 0 && v.chance(40) ? String.valueOf(at + 1) : k.expr());
        }
        sql.append(" GROUP BY ").append(String.join(", ", groupBy));
        if (v.chance(30)) {
            sql.append(" HAVING ").append(v.having(p));
        }
        Tier tier = items.stream().map(Item::tier).reduce(Tier.MUST, ReadGenerator::loosest);
        Order order = Order.MULTISET;
        List<Integer> orderKeys = new ArrayList<>();
        if (v.chance(75)) {
            List<String> terms = new ArrayList<>();
            List<Item> sortedBy = new ArrayList<>();
            int n = v.between(1, Math.min(2, items.size()));
            for (int i = 0; i < n; i++) {
                int at = r.nextInt(items.size());
                if (!orderKeys.contains(at)) {
                    orderKeys.add(at);
                    sortedBy.add(items.get(at));
                    terms.add(refer(items, aliases, at) + direction());
                }
            }
            boolean exact = v.chance(60);
            if (exact) {
                for (Item k : keys) {
                    if (!sortedBy.contains(k)) {
                        int at = items.indexOf(k);
                        terms.add((at >= 0 ? refer(items, aliases, at) : sortName(items, aliases, k.expr())) + direction());
                        sortedBy.add(k);
                    }
                }
            }
            if (exact && v.chance(20)) { // an aggregate only in ORDER BY: the proxy computes it without showing it
                Item hidden = v.aggregate();
                terms.add(0, hidden.expr() + direction());
                sortedBy.add(hidden);
                tier = loosest(tier, hidden.tier());
            }
            for (Item s : sortedBy) {
                tier = loosest(tier, sortTier(s.kind()));
            }
            sql.append(" ORDER BY ").append(String.join(", ", terms));
            order = exact ? Order.EXACT : Order.GROUPS;
            if (exact) {
                sql.append(limit(p));
                tier = loosest(tier, limitTier);
            }
        }
        return read("group", sql.toString(), p, order, order == Order.GROUPS ? orderKeys : List.of(), tier);
    }

    private GeneratedRead rows() {
        Params p = new Params();
        boolean star = v.chance(12);
        List<Item> items = star ? SqlVocabulary.COLUMNS.stream().map(c -> new Item(c.name(), c.kind(), false)).toList()
                : distinctItems(v.between(1, 4), v::rowItem);
        String[] aliases = new String[items.size()];
        String selectList = star ? "*" : selectList(items, aliases);
        String where = where(p);
        if (where.isEmpty() && v.chance(60)) { // fewer whole-table dumps keep the run short; some stay for the merge
            where = " WHERE " + v.keylessFilter(p);
        }
        StringBuilder sql = new StringBuilder("SELECT ").append(selectList).append(" FROM orders").append(where);
        Tier tier = Tier.MUST;
        int mode = r.nextInt(4);
        if (mode == 0) {
            return read("rows", sql.toString(), p, Order.MULTISET, List.of(), tier);
        }
        List<String> terms = new ArrayList<>();
        List<Integer> orderKeys = new ArrayList<>();
        int n = v.between(1, 2);
        for (int i = 0; i < n; i++) {
            if (mode >= 2 && v.chance(30)) { // a sort key that is not an output column: the proxy needs a helper column
                SqlVocabulary.Col c = v.pick(SqlVocabulary.COLUMNS);
                terms.add(sortName(items, star ? null : aliases, c.name()) + direction());
                tier = loosest(tier, sortTier(c.kind()));
                continue;
            }
            int at = r.nextInt(items.size());
            if (!orderKeys.contains(at)) {
                orderKeys.add(at);
                terms.add(refer(items, aliases, at) + direction());
                tier = loosest(tier, sortTier(items.get(at).kind()));
            }
        }
        if (mode == 1) {
            if (orderKeys.isEmpty()) {
                return read("rows", sql.toString(), p, Order.MULTISET, List.of(), tier);
            }
            sql.append(" ORDER BY ").append(String.join(", ", terms));
            return read("rows-ordered", sql.toString(), p, Order.GROUPS, orderKeys, tier);
        }
        terms.add("id" + direction()); // the unique tiebreaker: the order is total
        sql.append(" ORDER BY ").append(String.join(", ", terms)).append(limit(p));
        return read("rows-ordered", sql.toString(), p, Order.EXACT, List.of(), loosest(tier, limitTier));
    }

    private GeneratedRead distinct() {
        Params p = new Params();
        List<Item> items = distinctItems(v.between(1, 2), () -> v.chance(70) ? v.groupKey() : v.rowItem());
        String[] aliases = new String[items.size()];
        StringBuilder sql = new StringBuilder("SELECT DISTINCT ").append(selectList(items, aliases)).append(" FROM orders")
                .append(where(p));
        Tier tier = Tier.MUST;
        int mode = r.nextInt(3);
        if (mode == 0) {
            return read("distinct", sql.toString(), p, Order.MULTISET, List.of(), tier);
        }
        List<Integer> keys = new ArrayList<>();
        List<String> terms = new ArrayList<>();
        int n = mode == 2 ? items.size() : v.between(1, items.size());
        List<Integer> positions = new ArrayList<>();
        for (int i = 0; i < items.size(); i++) {
            positions.add(i);
        }
        java.util.Collections.shuffle(positions, r);
        for (int i = 0; i < n; i++) {
            int at = positions.get(i);
            keys.add(at);
            terms.add(refer(items, aliases, at) + direction());
            tier = loosest(tier, sortTier(items.get(at).kind()));
        }
        sql.append(" ORDER BY ").append(String.join(", ", terms));
        if (keys.size() == items.size()) {
            sql.append(limit(p));
            return read("distinct", sql.toString(), p, Order.EXACT, List.of(), loosest(tier, limitTier));
        }
        return read("distinct", sql.toString(), p, Order.GROUPS, keys, tier);
    }

    private GeneratedRead distinctOn() {
        Params p = new Params();
        Item key = v.pick(List.of(new Item("status", Kind.TEXT, false), new Item("region_id", Kind.INT, false),
                new Item("paid", Kind.BOOL, false), new Item("customer_id", Kind.BIGINT, false),
                new Item("qty % 5", Kind.INT, false), new Item("created_at::date", Kind.DATE, false)));
        Item other = v.rowItem();
        List<Item> items = List.of(key, new Item("id", Kind.BIGINT, false), other);
        String sql = "SELECT DISTINCT ON (" + key.expr() + ") " + key.expr() + ", id, " + other.expr() + " FROM orders" + where(p)
                + " ORDER BY " + (v.chance(30) ? "1" : sortName(items, null, key.expr())) + direction();
        Tier tier = loosest(Tier.SHOULD, sortTier(key.kind()));
        if (v.chance(50)) {
            sql += ", " + sortName(items, null, other.expr()) + direction();
            tier = loosest(tier, sortTier(other.kind()));
        }
        sql += ", " + sortName(items, null, "id") + direction() + limit(p);
        return read("distinct-on", sql, p, Order.EXACT, List.of(), loosest(tier, limitTier));
    }

    private GeneratedRead omnisharded() {
        Params p = new Params();
        String sql = switch (r.nextInt(5)) {
            case 0 -> "SELECT count(*), sum(tax), min(name), max(id) FROM regions";
            case 1 -> "SELECT * FROM regions ORDER BY id" + (v.chance(50) ? " LIMIT " + p.add(v.between(1, 8), v.between(1, 8)) : "");
            case 2 -> "SELECT name, count(*) FROM regions GROUP BY name ORDER BY name";
            case 3 -> "SELECT DISTINCT name FROM regions";
            default -> "SELECT id, name FROM regions WHERE tax > " + p.add(0.5, 1.2) + " ORDER BY tax DESC NULLS LAST, id";
        };
        Order order = sql.contains("ORDER BY") ? Order.EXACT : Order.MULTISET;
        return read("omnisharded", sql, p, order, List.of(), Tier.MUST);
    }

    /** Statement counts by shape and tier, for the report. */
    static String census(List<GeneratedRead> reads) {
        return reads.stream().collect(Collectors.groupingBy(g -> g.shape() + "/" + g.tier(), java.util.TreeMap::new,
                Collectors.counting())).toString();
    }
}
