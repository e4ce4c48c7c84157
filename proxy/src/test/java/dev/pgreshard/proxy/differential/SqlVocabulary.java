package dev.pgreshard.proxy.differential;

import java.math.BigDecimal;
import java.time.LocalDateTime;
import java.util.List;
import java.util.Random;

/**
 * The pieces the generator combines: the columns of {@code orders} with their kinds, select items
 * (plain expressions, aggregates and expressions over aggregates), group keys and filters with
 * parameters. Each piece knows whether ordering by it needs a collation or a type the proxy may not
 * reproduce (which makes a statement that sorts by it refusable).
 */
final class SqlVocabulary {
    /** What a value sorts like: text kinds need the column's collation; UUID/INTERVAL are unusual sort types. */
    enum Kind { INT, BIGINT, NUMERIC, FLOAT, TEXT, TEXT_C, BOOL, TS, TSTZ, DATE, UUID, INTERVAL;

        boolean numeric() {
            return this == INT || this == BIGINT || this == NUMERIC || this == FLOAT;
        }

        /** Ordering (or min/max) by this kind may be refused: the proxy may not implement the collation. */
        boolean collationSensitive() {
            return this == TEXT || this == TEXT_C;
        }

        /** Ordering by this kind is in the planner's brief but not a common application shape. */
        boolean unusualSort() {
            return this == UUID || this == INTERVAL;
        }
    }

    record Col(String name, Kind kind) {
    }

    /**
     * A select item or sort/group expression.
     *
     * @param aggregate whether it contains an aggregate
     * @param tier      the loosest tier a statement selecting it can have (count(DISTINCT) or min(text) → MAY)
     */
    record Item(String expr, Kind kind, boolean aggregate, GeneratedRead.Tier tier) {
        Item(String expr, Kind kind, boolean aggregate) {
            this(expr, kind, aggregate, GeneratedRead.Tier.MUST);
        }
    }

    static final List<Col> COLUMNS = List.of(
            new Col("id", Kind.BIGINT), new Col("customer_id", Kind.BIGINT), new Col("qty", Kind.INT),
            new Col("small", Kind.INT), new Col("amount", Kind.NUMERIC), new Col("price", Kind.FLOAT),
            new Col("big", Kind.BIGINT), new Col("status", Kind.TEXT), new Col("note", Kind.TEXT),
            new Col("code", Kind.TEXT_C), new Col("paid", Kind.BOOL), new Col("created_at", Kind.TS),
            new Col("updated_at", Kind.TSTZ), new Col("ref", Kind.UUID), new Col("region_id", Kind.INT));

    static final List<Col> NUMERIC_COLUMNS = COLUMNS.stream().filter(c -> c.kind().numeric() && !c.name().equals("id")).toList();

    private final Random r;
    private final long[] customers;

    SqlVocabulary(Random r, long[] customers) {
        this.r = r;
        this.customers = customers;
    }

    <T> T pick(List<T> list) {
        return list.get(r.nextInt(list.size()));
    }

    boolean chance(int percent) {
        return r.nextInt(100) < percent;
    }

    int between(int lo, int hi) {
        return lo + r.nextInt(hi - lo + 1);
    }

    long customer() {
        return customers[r.nextInt(customers.length)];
    }

    /** A non-aggregate output expression of a row. */
    Item rowItem() {
        if (chance(75)) {
            Col c = pick(COLUMNS);
            return new Item(c.name(), c.kind(), false);
        }
        return pick(List.of(
                new Item("amount * 2", Kind.NUMERIC, false), new Item("qty + small", Kind.INT, false),
                new Item("upper(status)", Kind.TEXT, false), new Item("created_at::date", Kind.DATE, false),
                new Item("price / 2", Kind.FLOAT, false), new Item("coalesce(note, '-')", Kind.TEXT, false),
                new Item("big % 1000", Kind.BIGINT, false), new Item("updated_at - created_at", Kind.INTERVAL, false),
                new Item("paid IS TRUE", Kind.BOOL, false), new Item("-qty", Kind.INT, false)));
    }

    /** A GROUP BY key: a column or an expression. */
    Item groupKey() {
        return pick(List.of(
                new Item("status", Kind.TEXT, false), new Item("paid", Kind.BOOL, false), new Item("region_id", Kind.INT, false),
                new Item("qty", Kind.INT, false), new Item("small", Kind.INT, false), new Item("code", Kind.TEXT_C, false),
                new Item("note", Kind.TEXT, false), new Item("customer_id", Kind.BIGINT, false),
                new Item("created_at::date", Kind.DATE, false), new Item("date_trunc('month', created_at)", Kind.TS, false),
                new Item("qty % 5", Kind.INT, false), new Item("coalesce(status, '?')", Kind.TEXT, false),
                new Item("amount > 0", Kind.BOOL, false), new Item("extract(year from updated_at)", Kind.NUMERIC, false),
                new Item("region_id IS NULL", Kind.BOOL, false), new Item("small / 7", Kind.INT, false),
                new Item("amount", Kind.NUMERIC, false)));
    }

    /**
     * An aggregate or an expression over aggregates (computed after the merge). A sum or avg over
     * float8 is {@link GeneratedRead.Tier#MAY}: its last bits depend on the order the rows are added
     * in (PostgreSQL's own parallel aggregation differs from its serial one), so the proxy may refuse
     * it; the data's floats are multiples of 1/4, so an exact merge still equals the reference.
     */
    Item aggregate() {
        Col n = pick(NUMERIC_COLUMNS);
        GeneratedRead.Tier sumTier = n.kind() == Kind.FLOAT ? GeneratedRead.Tier.MAY : GeneratedRead.Tier.MUST;
        Kind sumKind = n.kind() == Kind.INT ? Kind.BIGINT : n.kind() == Kind.FLOAT ? Kind.FLOAT : Kind.NUMERIC;
        return switch (r.nextInt(16)) {
            case 0, 1 -> new Item("count(*)", Kind.BIGINT, true);
            case 2 -> new Item("count(" + pick(COLUMNS).name() + ")", Kind.BIGINT, true);
            case 3, 4, 15 -> new Item("sum(" + n.name() + ")", sumKind, true, sumTier);
            case 5 -> new Item("avg(" + n.name() + ")", n.kind() == Kind.FLOAT ? Kind.FLOAT : Kind.NUMERIC, true, sumTier);
            case 6, 7 -> {
                Col c = pick(COLUMNS.stream().filter(x -> x.kind() != Kind.BOOL && x.kind() != Kind.UUID).toList());
                GeneratedRead.Tier t = c.kind().collationSensitive() ? GeneratedRead.Tier.MAY : GeneratedRead.Tier.MUST;
                yield new Item((r.nextBoolean() ? "min(" : "max(") + c.name() + ")", c.kind(), true, t);
            }
            case 8 -> new Item(pick(List.of("bool_and(paid)", "bool_or(paid)", "bool_and(qty > 0)", "bool_or(amount < 0)")),
                    Kind.BOOL, true);
            case 9 -> new Item("sum(" + n.name() + ") / nullif(count(*), 0)", sumKind, true, sumTier);
            case 10 -> new Item(n.kind() == Kind.FLOAT ? "round(avg(price)::numeric, 2)" : "round(avg(" + n.name() + "), 2)",
                    Kind.NUMERIC, true, sumTier);
            case 11 -> new Item("max(" + n.name() + ") - min(" + n.name() + ")", n.kind(), true);
            case 12 -> pick(List.of(new Item("coalesce(sum(qty), 0)", Kind.BIGINT, true), new Item("count(*) * 2 + 1", Kind.BIGINT, true),
                    new Item("sum(qty) + sum(small)", Kind.BIGINT, true),
                    new Item("max(created_at) - min(created_at)", Kind.INTERVAL, true),
                    new Item("count(amount)::float8 / nullif(count(*), 0)", Kind.FLOAT, true),
                    new Item("avg(small) * 2", Kind.NUMERIC, true)));
            case 13 -> new Item(pick(List.of("max(created_at)", "min(updated_at)", "max(created_at::date)")), Kind.TS, true);
            default -> new Item("count(DISTINCT " + pick(COLUMNS).name() + ")", Kind.BIGINT, true, GeneratedRead.Tier.MAY);
        };
    }

    /** A HAVING condition (aggregates that are often not in the select list). */
    String having(Params p) {
        return switch (r.nextInt(7)) {
            case 0 -> "count(*) > " + p.add(between(1, 30), between(1, 30));
            case 1 -> "sum(qty) > " + p.add(between(-100, 2000), between(-100, 2000));
            case 2 -> "min(amount) < 0";
            case 3 -> "bool_or(paid)";
            case 4 -> "avg(amount) > " + p.add(BigDecimal.valueOf(between(0, 500_000), 2), BigDecimal.valueOf(between(0, 500_000), 2));
            case 5 -> "max(created_at) > '2025-06-01'";
            default -> "count(*) BETWEEN 2 AND 60";
        };
    }

    /** A WHERE conjunct that does not name the shard key. */
    String keylessFilter(Params p) {
        return switch (r.nextInt(14)) {
            case 0 -> "qty > " + p.add(between(-50, 200), between(-50, 200));
            case 1 -> "amount >= " + p.add(BigDecimal.valueOf(between(-10_000, 40_000), 1),
                    BigDecimal.valueOf(between(-10_000, 40_000), 1));
            case 2 -> "status = " + p.add(pick(List.of(OrdersDataSet.STATUSES)), pick(List.of(OrdersDataSet.STATUSES)));
            case 3 -> "status IS NULL";
            case 4 -> pick(List.of("paid", "NOT paid", "paid IS NULL", "paid IS NOT NULL"));
            case 5 -> "note LIKE " + pick(List.of("'a%'", "'%é%'", "'東%'", "'%e%'"));
            case 6 -> "created_at >= " + p.add(LocalDateTime.of(2024, between(1, 12), between(1, 28), 0, 0),
                    LocalDateTime.of(2025, between(1, 12), between(1, 28), 12, 30));
            case 7 -> "region_id IN (1, 3, 5)";
            case 8 -> "price < " + p.add((double) between(-1000, 11_000), (double) between(-1000, 11_000));
            case 9 -> "code >= 'C'";
            case 10 -> "big < 0";
            case 11 -> "id % 3 = 0";
            case 12 -> "updated_at < '2025-01-01 00:00:00+00'";
            default -> "qty > 100000"; // matches nothing: empty groups, count 0, sum NULL
        };
    }

    /** A WHERE conjunct naming the shard key: one customer, a list (maybe spanning shards) or an array parameter. */
    String keyFilter(Params p) {
        return switch (r.nextInt(8)) {
            case 0, 1, 2 -> "customer_id = " + p.add(customer(), customer());
            case 3 -> "customer_id IN (" + p.add(customer(), customer()) + ", " + p.add(customer(), customer()) + ", "
                    + p.add(customer(), customer()) + ")";
            case 4 -> "customer_id = ANY(" + p.add(new Long[] {customer(), customer()}, new Long[] {customer(), customer(), customer()})
                    + ")";
            case 5 -> "(customer_id = " + p.add(customer(), customer()) + " OR customer_id = " + p.add(customer(), customer()) + ")";
            case 6 -> "customer_id BETWEEN " + p.add(1L, 50_000L) + " AND " + p.add(40_000L, 99_999L);
            default -> "customer_id IN (" + customer() + ", " + customer() + ")";
        };
    }
}
