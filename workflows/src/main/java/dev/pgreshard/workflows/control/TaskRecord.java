package dev.pgreshard.workflows.control;

/**
 * A row of the task registry.
 *
 * @param error empty unless the task failed
 */
public record TaskRecord(String taskId, String source, String destination, String publication, String phase,
                         String state, long lagBytes, String error) {
}
