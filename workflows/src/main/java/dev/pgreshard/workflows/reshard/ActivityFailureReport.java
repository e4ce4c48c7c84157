package dev.pgreshard.workflows.reshard;

/**
 * The worker's report of one failed activity attempt, sent as the {@code activityFailing} signal
 * (see {@link ReshardWorkflow#activityFailing}).
 *
 * @param key        the activity's identity across its retries (type and activity id)
 * @param activity   the activity type
 * @param subject    what it failed on (table, shard), empty when unknown
 * @param error      the attempt's error
 * @param attempt    the attempt that failed (1 = the first)
 * @param willRetry  false when Temporal will not retry it (not retryable, or the last attempt): the
 *                   workflow itself then handles the failure, and the problem leaves the list
 */
public record ActivityFailureReport(String key, String activity, String subject, String error, int attempt,
                                    boolean willRetry) {
}
