package dev.pgreshard.workflows.cutover;

/**
 * Whether a replication stream applied everything its read side had committed when asked.
 *
 * @param drained   true when every change committed before the request is applied
 * @param lagBytes  WAL not yet applied when the wait ended (0 when drained)
 * @param reason    why it did not drain; empty when it did
 */
public record DrainResult(boolean drained, long lagBytes, String reason) {
}
