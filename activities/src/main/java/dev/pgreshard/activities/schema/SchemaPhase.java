package dev.pgreshard.activities.schema;

import java.util.Locale;

/** pg_dump's sections: pre-data before the copy (tables, sequences, types), post-data after it. */
public enum SchemaPhase {
    PRE("pre-data"), POST("post-data");

    private final String section;

    SchemaPhase(String section) {
        this.section = section;
    }

    public String section() {
        return section;
    }

    public static SchemaPhase parse(String text) {
        return switch (text.toLowerCase(Locale.ROOT)) {
            case "pre", "pre-data" -> PRE;
            case "post", "post-data" -> POST;
            default -> throw new IllegalArgumentException("phase must be pre or post, got '" + text + "'");
        };
    }
}
