package dev.pgreshard.workflows.copy;

/** Heartbeat details of a table copy: rows and bytes written to the destination so far. */
public record CopyProgress(long rows, long bytes) {
}
