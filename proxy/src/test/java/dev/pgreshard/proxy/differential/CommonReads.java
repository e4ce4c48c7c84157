package dev.pgreshard.proxy.differential;

import dev.pgreshard.proxy.differential.GeneratedRead.Order;

import java.util.List;

/**
 * Ordinary application reads the proxy must answer, never refuse (the examples among them, and
 * regression cases of faults the large seed found): every run starts with these before the random statements.
 */
final class CommonReads {
    record Common(String sql, Params params, Order order, List<Integer> orderKeys) {
    }

    private CommonReads() {
    }

    private static Common of(String sql, Order order) {
        return new Common(sql, new Params(), order, List.of());
    }

    static List<Common> list(long[] customers) {
        Params anyArray = new Params();
        anyArray.add(new Long[] {customers[0], customers[1], customers[2]}, new Long[] {customers[3], customers[4]});
        Params oneCustomer = new Params();
        oneCustomer.add(customers[0], customers[5]);
        Params limitOffset = new Params();
        limitOffset.add(10, 5);
        limitOffset.add(20, 0);
        return List.of(
                of("SELECT count(*) FROM orders", Order.MULTISET),
                of("SELECT count(*), count(amount), sum(qty), sum(amount), sum(big), avg(qty), avg(amount), avg(big),"
                        + " min(amount), max(amount), min(created_at), max(updated_at), min(price), max(big) FROM orders",
                        Order.MULTISET),
                of("SELECT sum(qty), avg(amount), count(*) FROM orders WHERE qty > 100000", Order.MULTISET),
                of("SELECT bool_and(paid), bool_or(paid), sum(amount) / nullif(count(*), 0), round(avg(qty), 2) FROM orders",
                        Order.MULTISET),
                of("SELECT region_id, count(*) FROM orders GROUP BY region_id ORDER BY 2 DESC, 1 LIMIT 5", Order.EXACT),
                of("SELECT customer_id, sum(amount) AS total FROM orders GROUP BY customer_id ORDER BY total DESC NULLS LAST,"
                        + " customer_id LIMIT 5", Order.EXACT),
                of("SELECT status, count(*), avg(amount) FROM orders GROUP BY status", Order.MULTISET),
                of("SELECT region_id, sum(qty) FROM orders GROUP BY 1 HAVING count(*) > 10 ORDER BY 1 NULLS FIRST", Order.EXACT),
                of("SELECT id, amount FROM orders ORDER BY id DESC LIMIT 10", Order.EXACT),
                of("SELECT * FROM orders ORDER BY id DESC LIMIT 10", Order.EXACT),
                new Common("SELECT * FROM orders WHERE customer_id = ? ORDER BY created_at DESC NULLS LAST, id LIMIT 5", oneCustomer,
                        Order.EXACT, List.of()),
                of("SELECT id, customer_id FROM orders ORDER BY amount NULLS FIRST, id LIMIT 10 OFFSET 20", Order.EXACT),
                new Common("SELECT id, qty FROM orders ORDER BY qty DESC, id LIMIT ? OFFSET ?", limitOffset, Order.EXACT, List.of()),
                of("SELECT DISTINCT status FROM orders", Order.MULTISET),
                of("SELECT DISTINCT region_id FROM orders ORDER BY 1 LIMIT 5", Order.EXACT),
                of("SELECT DISTINCT paid, region_id FROM orders ORDER BY region_id DESC NULLS LAST, paid", Order.EXACT),
                new Common("SELECT count(*) FROM orders WHERE customer_id = ANY(?)", anyArray, Order.MULTISET, List.of()),
                of("SELECT count(*), sum(amount) FROM orders WHERE customer_id IN (" + customers[0] + ", " + customers[1] + ", "
                        + customers[2] + ")", Order.MULTISET),
                of("SELECT created_at::date AS day, count(*), max(amount) FROM orders GROUP BY 1 ORDER BY day DESC LIMIT 7",
                        Order.EXACT),
                of("SELECT paid, count(*), min(created_at), max(created_at) FROM orders GROUP BY paid ORDER BY paid NULLS FIRST",
                        Order.EXACT),
                // found by the large seed (14): a position into * (column 13 of *, updated_at), refused before
                new Common("SELECT * FROM orders WHERE code >= 'C' ORDER BY customer_id DESC NULLS LAST, 13 ASC", new Params(),
                        Order.GROUPS, List.of(1, 12)),
                // a sort key listed twice before another: the streamed merge compared a collation column as the key
                of("SELECT id, qty, amount FROM orders ORDER BY qty, qty DESC, amount NULLS FIRST, id", Order.EXACT),
                // a bare ORDER BY name is the output column so named (created_at::date), not the input column
                of("SELECT created_at::date, id FROM orders ORDER BY created_at DESC, id LIMIT 12", Order.EXACT));
    }
}
