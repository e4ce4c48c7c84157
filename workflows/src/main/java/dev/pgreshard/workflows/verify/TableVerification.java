package dev.pgreshard.workflows.verify;

import dev.pgreshard.core.topology.TableName;

import java.util.List;

/**
 * One table: source vs the union of destination shards.
 *
 * @param problems empty when the table matches; otherwise each names the table and shard
 */
public record TableVerification(TableName table, long sourceRows, long destinationRows, String sourceChecksum,
                                String destinationChecksum, long misplacedRows, List<String> problems) {
    public boolean ok() {
        return problems.isEmpty();
    }
}
