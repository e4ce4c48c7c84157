package dev.pgreshard.core.topology;

import dev.pgreshard.core.pg.Identifiers;

/**
 * A schema-qualified table name as stored in the catalog (case-sensitive, unquoted).
 * Config writes {@code schema.table}, or just {@code table} for {@code public}.
 */
public record TableName(String schema, String name) implements Comparable<TableName> {
    public TableName {
        if (schema == null || schema.isEmpty() || name == null || name.isEmpty()) {
            throw new IllegalArgumentException("a table name needs a schema and a name, got " + schema + "." + name);
        }
    }

    /** {@code orders} → public.orders; {@code sales.orders} → sales.orders (split at the first dot). */
    public static TableName parse(String text) {
        if (text == null || text.isEmpty()) {
            throw new IllegalArgumentException("a table name cannot be empty");
        }
        int dot = text.indexOf('.');
        if (dot < 0) {
            return new TableName("public", text);
        }
        if (dot == 0 || dot == text.length() - 1) {
            throw new IllegalArgumentException("'" + text + "' is not a table name; write table or schema.table");
        }
        return new TableName(text.substring(0, dot), text.substring(dot + 1));
    }

    /** {@code "schema"."name"}, safe to put in SQL text. */
    public String quoted() {
        return Identifiers.quote(schema) + "." + Identifiers.quote(name);
    }

    @Override
    public int compareTo(TableName o) {
        int c = schema.compareTo(o.schema);
        return c != 0 ? c : name.compareTo(o.name);
    }

    @Override
    public String toString() {
        return schema + "." + name;
    }
}
