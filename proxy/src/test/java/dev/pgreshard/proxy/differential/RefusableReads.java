package dev.pgreshard.proxy.differential;

import dev.pgreshard.proxy.differential.GeneratedRead.Order;
import dev.pgreshard.proxy.differential.GeneratedRead.Tier;

import java.util.function.Function;

/**
 * Shapes whose meaning needs the whole data set when keyless: window functions, joins of the sharded
 * table with itself (on and off the shard key), subqueries and CTEs aggregating it, set operations,
 * and joins with the omnisharded table. The proxy may refuse them (0A000) or answer them exactly;
 * some get a keyed filter, which makes them single-shard reads.
 */
final class RefusableReads {
    interface Sink {
        GeneratedRead make(String shape, String sql, Params p, Order order, Tier tier);
    }

    private RefusableReads() {
    }

    static GeneratedRead pick(SqlVocabulary v, Function<Params, String> where, Sink sink) {
        Params p = new Params();
        int which = v.between(0, 17);
        // a keyed variant of the window shapes: one customer's rows live on one shard
        String keyed = which <= 2 && v.chance(30) ? " WHERE customer_id = " + p.add(v.customer(), v.customer()) : "";
        return switch (which) {
            case 0 -> sink.make("window", "SELECT id, qty, sum(qty) OVER (PARTITION BY status) AS s FROM orders" + keyed
                    + " ORDER BY id", p, Order.EXACT, Tier.MAY);
            case 1 -> sink.make("window", "SELECT id, row_number() OVER (ORDER BY amount DESC NULLS LAST, id) FROM orders" + keyed
                    + " ORDER BY id LIMIT 20", p, Order.EXACT, Tier.MAY);
            case 2 -> sink.make("window", "SELECT region_id, rank() OVER (ORDER BY count(*) DESC) FROM orders" + keyed
                    + " GROUP BY region_id", p, Order.MULTISET, Tier.MAY);
            case 3 -> sink.make("self-join", "SELECT count(*) FROM orders a JOIN orders b ON a.region_id = b.region_id"
                    + " AND a.qty = b.qty AND a.status = b.status", p, Order.MULTISET, Tier.MAY);
            case 4 -> sink.make("self-join", "SELECT a.id, b.id FROM orders a JOIN orders b ON a.ref = b.ref ORDER BY 1, 2",
                    p, Order.EXACT, Tier.MAY);
            case 5 -> sink.make("self-join-on-key", "SELECT a.customer_id, count(*) FROM orders a JOIN orders b"
                    + " ON a.customer_id = b.customer_id WHERE a.qty > 150 AND b.qty > 150 GROUP BY 1 ORDER BY 1", p, Order.EXACT,
                    Tier.MAY);
            case 6 -> sink.make("subquery", "SELECT id FROM orders WHERE amount > (SELECT avg(amount) FROM orders) ORDER BY id",
                    p, Order.EXACT, Tier.MAY);
            case 7 -> sink.make("subquery", "SELECT count(*) FROM (SELECT customer_id, count(*) AS c FROM orders"
                    + " GROUP BY customer_id) s WHERE c > 3", p, Order.MULTISET, Tier.MAY);
            case 8 -> sink.make("subquery", "SELECT max(c) FROM (SELECT status, count(*) AS c FROM orders GROUP BY status) s",
                    p, Order.MULTISET, Tier.MAY);
            case 9 -> sink.make("cte", "WITH t AS (SELECT region_id, sum(qty) AS s FROM orders" + where.apply(p)
                    + " GROUP BY region_id) SELECT * FROM t ORDER BY region_id NULLS FIRST", p, Order.EXACT, Tier.MAY);
            case 10 -> sink.make("union", "SELECT region_id FROM orders WHERE qty > 100 UNION SELECT small FROM orders WHERE qty < 0",
                    p, Order.MULTISET, Tier.MAY);
            case 11 -> sink.make("union-all", "SELECT id FROM orders WHERE qty > 190 UNION ALL SELECT id FROM orders WHERE qty < -45",
                    p, Order.MULTISET, Tier.MAY);
            case 12 -> sink.make("intersect", "SELECT status FROM orders INTERSECT SELECT status FROM orders WHERE paid", p,
                    Order.MULTISET, Tier.MAY);
            case 13 -> sink.make("except", "SELECT customer_id FROM orders WHERE qty > 195 EXCEPT SELECT customer_id FROM orders"
                    + " WHERE paid", p, Order.MULTISET, Tier.MAY);
            case 14 -> sink.make("in-subquery", "SELECT count(*) FROM orders WHERE region_id IN (SELECT region_id FROM orders"
                    + " WHERE qty > 198)", p, Order.MULTISET, Tier.MAY);
            case 15 -> sink.make("exists", "SELECT count(*) FROM orders o WHERE EXISTS (SELECT 1 FROM orders q"
                    + " WHERE q.region_id = o.region_id AND q.qty > o.qty + 240)", p, Order.MULTISET, Tier.MAY);
            case 16 -> sink.make("join-omnisharded", "SELECT r.name, count(*), sum(o.amount) FROM orders o JOIN regions r"
                    + " ON r.id = o.region_id GROUP BY r.name ORDER BY r.name", p, Order.EXACT, Tier.MAY);
            default -> sink.make("join-omnisharded", "SELECT o.id, r.name FROM orders o JOIN regions r ON r.id = o.region_id"
                    + " WHERE o.qty > 190 ORDER BY o.id", p, Order.EXACT, Tier.MAY);
        };
    }
}
