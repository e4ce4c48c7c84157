package dev.pgreshard.activities.replication;

import dev.pgreshard.core.pg.Identifiers;
import dev.pgreshard.core.topology.TableName;

import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * SQL text with value slots. A destination shard session parses it once as a named statement
 * ({@link #jdbcSql()}, see {@link ParameterizedBatch}) and then binds each change's values to it:
 * each value text of unspecified type, which PostgreSQL resolves to the parameter's (the column's)
 * type. Such statements, whatever table or operation they are for, share one pipelined batch — a
 * batch of mixed INSERT/UPDATE/DELETE costs one round trip, in the source's order — while the
 * server parses and plans each shape only once.
 */
final class SqlTemplate {
    private static final AtomicInteger IDS = new AtomicInteger();

    private final TableName table;
    private final String[] fragments;
    private final int length;
    private final int id = IDS.incrementAndGet();

    /** {@code fragments.size()} = number of slots + 1; the slots sit between the fragments. */
    SqlTemplate(TableName table, List<String> fragments) {
        this.table = table;
        this.fragments = fragments.toArray(String[]::new);
        this.length = fragments.stream().mapToInt(String::length).sum();
    }

    /** The table the statement changes. */
    TableName table() {
        return table;
    }

    /** Unique in this JVM: a session keeps one named statement per template. */
    int id() {
        return id;
    }

    /** The statement with {@code ?} slots (PgJDBC's form; the driver numbers them {@code $1, $2, ...}). */
    String jdbcSql() {
        return String.join("?", fragments);
    }

    /** The statement with {@code $n} slots, as the server sees it (for messages). */
    String parameterSql() {
        StringBuilder sb = new StringBuilder(fragments[0]);
        for (int i = 1; i < fragments.length; i++) {
            sb.append('$').append(i).append(fragments[i]);
        }
        return sb.toString();
    }

    int slots() {
        return fragments.length - 1;
    }

    /** The statement with the values inlined as literals (for statements run once, e.g. DELETE ... RETURNING). */
    String render(List<String> values) {
        if (values.size() != slots()) {
            throw new IllegalArgumentException("SQL template with " + slots() + " slots got " + values.size() + " values");
        }
        int size = length;
        for (String v : values) {
            size += v == null ? 4 : v.length() + 2;
        }
        StringBuilder sb = new StringBuilder(size + 16);
        sb.append(fragments[0]);
        for (int i = 0; i < values.size(); i++) {
            String v = values.get(i);
            sb.append(v == null ? "NULL" : Identifiers.literal(v));
            sb.append(fragments[i + 1]);
        }
        return sb.toString();
    }

    @Override
    public String toString() {
        return jdbcSql();
    }

    /** Builds a template: text and slots in order. */
    static final class Builder {
        private final TableName table;
        private final java.util.ArrayList<String> fragments = new java.util.ArrayList<>();
        private final StringBuilder current = new StringBuilder();

        Builder(TableName table) {
            this.table = table;
        }

        Builder text(String s) {
            current.append(s);
            return this;
        }

        Builder slot() {
            fragments.add(current.toString());
            current.setLength(0);
            return this;
        }

        SqlTemplate build() {
            fragments.add(current.toString());
            return new SqlTemplate(table, fragments);
        }
    }
}
