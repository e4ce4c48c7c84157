package dev.pgreshard.activities.replication;

import dev.pgreshard.core.pg.Identifiers;

import java.util.List;

/**
 * SQL text with value slots, rendered with each value as a quoted string literal of unknown type
 * (PostgreSQL resolves it to the column's type, exactly as it would a text parameter) or NULL.
 * Rendered statements of any shape can then share one pipelined JDBC batch, so a destination shard
 * gets a whole batch of mixed INSERT/UPDATE/DELETE in one round trip, in the source's order.
 */
final class SqlTemplate {
    private final String[] fragments;
    private final int length;

    /** {@code fragments.size()} = number of slots + 1; the slots sit between the fragments. */
    SqlTemplate(List<String> fragments) {
        this.fragments = fragments.toArray(String[]::new);
        this.length = fragments.stream().mapToInt(String::length).sum();
    }

    int slots() {
        return fragments.length - 1;
    }

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
        return String.join("?", fragments);
    }

    /** Builds a template: text and slots in order. */
    static final class Builder {
        private final java.util.ArrayList<String> fragments = new java.util.ArrayList<>();
        private final StringBuilder current = new StringBuilder();

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
            return new SqlTemplate(fragments);
        }
    }
}
