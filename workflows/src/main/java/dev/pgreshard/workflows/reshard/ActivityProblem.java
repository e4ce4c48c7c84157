package dev.pgreshard.workflows.reshard;

/**
 * An activity that is failing and being retried, as the `status` query shows it (and `pgreshard
 * status`, SHOW TASKS and the {@code pgreshard_activity_failing_attempts} gauge, all fed by the same
 * report from the worker).
 *
 * @param activity  the activity type, e.g. ReplicationReplicate, CopyTable, CutoverRollback
 * @param subject   what it failed on (table, shard), empty when unknown
 * @param error     the last error, as the server or the worker said it
 * @param attempts  attempts so far (all failed)
 * @param since     workflow time of the first failure of this run of failures (ISO-8601)
 * @param lastAt    workflow time of the latest failure
 */
public record ActivityProblem(String activity, String subject, String error, int attempts, String since, String lastAt) {
}
