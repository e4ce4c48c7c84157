package dev.pgreshard.workflows.copy;

import dev.pgreshard.core.topology.TableName;

/** A copied key range: rows written, COPY bytes read, wall time, and the worker that copied it. */
public record RangeCopyResult(TableName table, int index, long rows, long bytes, long millis, String worker) {
}
