package dev.pgreshard.activities.support;

/**
 * An exception that knows what it failed on (a table, a shard), so the failure report of the
 * activity that threw it ({@link ActivityProblems}) names it without parsing the message.
 */
public interface FailureSubject {
    /** For example {@code table public.orders on shard 1 of cluster "dst"}; empty when unknown. */
    String subject();
}
