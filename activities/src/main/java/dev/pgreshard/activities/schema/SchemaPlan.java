package dev.pgreshard.activities.schema;

import java.util.List;

/**
 * What schema sync would do on every destination shard: the session settings pg_dump wants first,
 * then the steps in dependency order; warnings name what is deliberately left out.
 */
public record SchemaPlan(SchemaPhase phase, List<String> preamble, List<DdlStep> steps, List<String> warnings) {

    /** The DDL as a script (for --dry-run). */
    public String script() {
        StringBuilder b = new StringBuilder();
        for (DdlStep step : steps) {
            b.append("-- ").append(step.label()).append('\n').append(step.sql()).append("\n\n");
        }
        return b.toString();
    }
}
