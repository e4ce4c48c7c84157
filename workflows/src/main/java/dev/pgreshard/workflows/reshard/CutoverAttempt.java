package dev.pgreshard.workflows.reshard;

/**
 * One cutover (or rollback) attempt, kept in the workflow's status.
 *
 * @param kind       CUTOVER or ROLLBACK
 * @param startedAt  workflow time, ISO-8601
 * @param swapped    true when traffic moved
 * @param pauseMs    how long clients were paused
 * @param lagBytes   replication lag drained during the pause
 * @param reason     why it did not swap (empty when it did)
 */
public record CutoverAttempt(String kind, String startedAt, boolean swapped, long pauseMs, long lagBytes, String reason) {
    /** The reason of an attempt still running (what it waits for is among the status's failing activities). */
    public static final String IN_PROGRESS = "in progress";

    public boolean inProgress() {
        return !swapped && IN_PROGRESS.equals(reason);
    }
}
