package dev.pgreshard.activities.schema;

/**
 * One TOC entry of a plain-text pg_dump script: the header comment
 * {@code -- Name: orders orders_pkey; Type: CONSTRAINT; Schema: public; Owner: -} and the SQL after it.
 *
 * @param name   the entry's name; for constraints, triggers, defaults: "table object"
 * @param type   TABLE, SEQUENCE, SEQUENCE OWNED BY, DEFAULT, INDEX, CONSTRAINT, FK CONSTRAINT, TRIGGER, COMMENT, ...
 * @param schema the schema, or "-"
 * @param sql    the statements of the entry (one or more, ';'-terminated)
 */
public record DumpEntry(String name, String type, String schema, String sql) {
}
