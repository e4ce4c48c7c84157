package dev.pgreshard.core.pg;

/**
 * Quoting of SQL identifiers and literals. Every name that reaches SQL text goes through here, so a
 * table called {@code Line Items} or {@code x"; DROP TABLE y} is always one identifier.
 */
public final class Identifiers {
    private Identifiers() {
    }

    /** {@code "name"} with embedded double quotes doubled; always quoted, so case is kept. */
    public static String quote(String identifier) {
        if (identifier == null || identifier.isEmpty()) {
            throw new IllegalArgumentException("an SQL identifier cannot be empty");
        }
        if (identifier.indexOf('\0') >= 0) {
            throw new IllegalArgumentException("an SQL identifier cannot contain a NUL character");
        }
        return '"' + identifier.replace("\"", "\"\"") + '"';
    }

    /** {@code 'text'} with embedded single quotes doubled (standard_conforming_strings = on). */
    public static String literal(String text) {
        if (text.indexOf('\0') >= 0) {
            throw new IllegalArgumentException("an SQL string literal cannot contain a NUL character");
        }
        return '\'' + text.replace("'", "''") + '\'';
    }
}
