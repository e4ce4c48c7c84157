package dev.pgreshard.workflows.copy;

import dev.pgreshard.core.topology.TableName;

/**
 * Heartbeat details of a key range copy: which range of which table, rows and bytes so far. `status`
 * reads them (with the worker's identity) from Temporal's pending activities to show placement.
 */
public record RangeProgress(TableName table, int index, int count, long rows, long bytes) {
}
