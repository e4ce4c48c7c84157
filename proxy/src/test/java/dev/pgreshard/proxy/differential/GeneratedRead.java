package dev.pgreshard.proxy.differential;

import java.util.List;

/**
 * One generated read statement: its SQL with {@code ?} placeholders, the parameter values of a first
 * and a second execution (a prepared statement is re-executed with the second set), how far its
 * answer's row order is determined, and whether the proxy may refuse it.
 *
 * @param orderKeys for {@link Order#GROUPS}: the 0-based output columns of the ORDER BY keys
 */
record GeneratedRead(int number, String shape, String sql, List<Object> paramsA, List<Object> paramsB, Order order,
                     List<Integer> orderKeys, Tier tier) {

    /** How the proxy's rows are compared with the reference's. */
    enum Order {
        /** ORDER BY gives a total order (a unique tiebreaker): the rows must come in the same order. */
        EXACT,
        /** ORDER BY keys are output columns but may tie: the keys must come in the same order, ties compared as multisets. */
        GROUPS,
        /** No ORDER BY: the rows compared as multisets. */
        MULTISET
    }

    /** Whether a refusal (SQLSTATE 0A000) is acceptable. */
    enum Tier {
        /**
         * A common shape the proxy must answer (count/sum/avg/min/max, bool_and/or, expressions over them,
         * GROUP BY, HAVING, ORDER BY … LIMIT/OFFSET, DISTINCT, omnisharded reads): refused counts as wrong.
         */
        MUST,
        /**
         * Covered by the planner's brief (DISTINCT ON, ordering by uuid or interval, FETCH FIRST) but not a
         * common shape: a refusal is reported, not failed.
         */
        SHOULD,
        /** Refusal is a right answer: count(DISTINCT), text ordering by collation, window functions, joins, subqueries, set operations. */
        MAY
    }

    List<Object> params(boolean second) {
        return second ? paramsB : paramsA;
    }

    @Override
    public String toString() {
        return "#" + number + " [" + shape + ", " + tier + ", " + order + (order == Order.GROUPS ? " " + orderKeys : "") + "] " + sql
                + (paramsA.isEmpty() ? "" : " params " + ParamText.of(paramsA) + " / " + ParamText.of(paramsB));
    }
}
