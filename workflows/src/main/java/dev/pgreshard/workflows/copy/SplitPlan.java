package dev.pgreshard.workflows.copy;

import dev.pgreshard.core.topology.TableName;

import java.util.List;

/**
 * How a table is copied: whole (one {@code copyTable} activity) when {@code ranges} is empty, else one
 * {@code copyRange} activity per key range, every range reading every source shard at that shard's one
 * exported snapshot (held by a {@code holdSnapshot} activity per source shard).
 *
 * @param keyColumn    the table's single-column primary key (quoted identifier), the range key
 * @param keyType      its type as format_type() spells it, for casting the boundary literals
 * @param sourceShards the source shards holding the table
 * @param reason       why the table is not split (for the log), or how it was split
 */
public record SplitPlan(TableName table, String keyColumn, String keyType, List<Integer> sourceShards,
                        List<KeyRange> ranges, String reason) {

    public boolean split() {
        return !ranges.isEmpty();
    }
}
