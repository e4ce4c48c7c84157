package dev.pgreshard.workflows.cutover;

import dev.pgreshard.workflows.TaskRef;

/** A cutover or rollback of {@code task} whose client pause must stay under {@code pauseBudgetMs}. */
public record CutoverRequest(TaskRef task, long pauseBudgetMs, boolean fenceSource) {
}
