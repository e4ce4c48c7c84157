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
 * @param starPositions ORDER BY / DISTINCT ON positions past a {@code *} of the select list, in the order PostgreSQL
 *                  checks them: valid only if the shards' expansion of the list is that wide (see {@link #positionError})
 */
public record ReadPlan(Kind kind, String shardSql, int trailing, FinalQuery finalQuery, StreamSpec stream,
                       List<String> steps, String refusal, List<StarPosition> starPositions) {
    public enum Kind { CONCAT, FINAL, STREAM, REFUSE }

    static ReadPlan concat() {
        return new ReadPlan(Kind.CONCAT, null, 0, null, null, List.of("concatenate the shards' rows (no order, "
                + "limit or aggregate to merge)"), null, List.of());
    }

    public static ReadPlan refuse(String message) {
        return new ReadPlan(Kind.REFUSE, null, 0, null, null, List.of(), message, List.of());
    }

    public boolean refused() {
        return kind == Kind.REFUSE;
    }

    /** A position of {@code clause} that points past a {@code *}. */
    public record StarPosition(String clause, int position) {
    }

    /**
     * PostgreSQL's error for a position past the end of the select list, known once the shards described their rows
     * ({@code shardWidth} columns, the helper columns included), or null. The shards' statement cannot report it
     * itself: its helper columns make the list longer than the client's.
     */
    public String positionError(int shardWidth) {
        int clientWidth = shardWidth - trailing;
        for (StarPosition p : starPositions) {
            if (p.position() > clientWidth) {
                return p.clause() + " position " + p.position() + " is not in select list";
            }
        }
        return null;
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
