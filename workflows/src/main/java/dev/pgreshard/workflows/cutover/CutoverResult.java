package dev.pgreshard.workflows.cutover;

/**
 * @param swapped   traffic moved (routing epoch {@code epoch} is in force)
 * @param pauseMs   client-visible pause
 * @param lagBytes  replication lag drained while paused
 * @param epoch     routing epoch after the attempt
 * @param reason    why it did not swap; empty when it did
 */
public record CutoverResult(boolean swapped, long pauseMs, long lagBytes, long epoch, String reason) {
}
