package dev.pgreshard.workflows.schema;

import java.util.List;

/** Statements applied per destination shard (0 on a re-run that found everything in place) and warnings. */
public record SchemaSyncResult(int statementsApplied, List<String> warnings) {
}
