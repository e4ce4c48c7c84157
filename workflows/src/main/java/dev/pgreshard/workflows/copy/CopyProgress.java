package dev.pgreshard.workflows.copy;

/**
 * Heartbeat details of a table copy, as the Temporal UI shows them: which table, how far its block
 * ranges are, and the rows and bytes written to the destination so far.
 *
 * @param table   the table being copied, e.g. {@code public.orders}
 * @param ranges  e.g. {@code "2 of 4 block ranges copied"}, or {@code "taking the snapshot"} before they start
 */
public record CopyProgress(String table, String ranges, long rows, long bytes) {
}
