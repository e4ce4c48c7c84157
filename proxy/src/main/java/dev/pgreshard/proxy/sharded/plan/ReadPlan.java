package dev.pgreshard.proxy.sharded.plan;

import java.util.List;

/**
 * How a read that touches several shards is answered. {@link Kind#CONCAT}: the shards' rows together
 * are the answer (no order, no limit, no aggregate), sent as the client sent it. {@link Kind#FINAL}:
 * every shard runs {@code shardSql} (partial aggregates, or its first LIMIT n+m rows with their sort
 * keys), the proxy collects those rows and the lead shard computes the answer from them with
 * {@link FinalQuery} — so expressions, HAVING, collations and result types are PostgreSQL's own.
 * {@link Kind#STREAM}: every shard runs {@code shardSql} ordered, the proxy merges the sorted streams.
 * {@link Kind#REFUSE}: the answer cannot be computed exactly; {@code refusal} says what to change.
 *
 * @param trailing  columns at the end of each shard row that the planner added (the rest are the
 *                  client's own select list, whose width is known only from the shards' RowDescription)
 * @param steps     the merge steps in words, for EXPLAIN ROUTE
 */
public record ReadPlan(Kind kind, String shardSql, int trailing, FinalQuery finalQuery, StreamSpec stream,
                       List<String> steps, String refusal) {
    public enum Kind { CONCAT, FINAL, STREAM, REFUSE }

    static ReadPlan concat() {
        return new ReadPlan(Kind.CONCAT, null, 0, null, null, List.of("concatenate the shards' rows (no order, "
                + "limit or aggregate to merge)"), null);
    }

    public static ReadPlan refuse(String message) {
        return new ReadPlan(Kind.REFUSE, null, 0, null, null, List.of(), message);
    }

    public boolean refused() {
        return kind == Kind.REFUSE;
    }

    /**
     * A sort key of a streamed merge.
     *
     * @param column    trailing-relative index of the key's column (binary or text per the result format)
     * @param collation trailing-relative index of the column holding {@code pg_collation_for} of the key
     */
    public record SortKey(int column, boolean ascending, boolean nullsFirst, int collation, String text) {
    }

    /**
     * @param keys             sort keys, most significant first
     * @param databaseCollation trailing-relative index of the column holding the database's default collation
     * @param limit            rows to return after {@code offset}, or -1 for all
     * @param clientColumns    the width of the client's select list, or -1 when a * makes it known only from the shards
     */
    public record StreamSpec(List<SortKey> keys, int databaseCollation, long limit, long offset, int clientColumns) {
    }
}
