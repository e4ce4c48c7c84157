package dev.pgreshard.workflows.preflight;

import java.util.List;

/**
 * What preflight learned: the tables to move (largest first, so the copy starts the long ones
 * early) and warnings that do not stop the task.
 */
public record PreflightReport(List<PublishedTable> tables, List<String> warnings) {
}
