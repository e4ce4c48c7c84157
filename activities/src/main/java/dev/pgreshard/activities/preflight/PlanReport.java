package dev.pgreshard.activities.preflight;

import java.util.List;

/**
 * What {@code pgreshard plan} (and {@code RESHARD … DRY_RUN}) found, having changed nothing: the
 * tables to move, what schema sync will create, the sequences the cutover will move forward, the
 * foreign keys left out, the estimated copy time, and every blocking problem with its fix.
 *
 * @param source       source cluster
 * @param destination  destination cluster
 * @param publication  the source publication
 * @param tables       largest first
 * @param schemaSync   what schema sync will create (or find) on the destination shards
 * @param sequences    sequences (serial, identity, nextval defaults) the cutover moves forward on the destination
 * @param foreignKeys  foreign keys that schema sync leaves out, each with why
 * @param copyEstimate the estimated copy time and how it was measured; empty when not sampled
 * @param blockers     problems that stop the task, each with its fix
 * @param warnings     things to know that do not stop it
 */
public record PlanReport(String source, String destination, String publication, List<TablePlan> tables,
                         List<String> schemaSync, List<String> sequences, List<String> foreignKeys,
                         String copyEstimate, List<Blocker> blockers, List<String> warnings) {
    public PlanReport {
        tables = List.copyOf(tables);
        schemaSync = List.copyOf(schemaSync);
        sequences = List.copyOf(sequences);
        foreignKeys = List.copyOf(foreignKeys);
        blockers = List.copyOf(blockers);
        warnings = List.copyOf(warnings);
    }

    public boolean blocked() {
        return !blockers.isEmpty();
    }
}
