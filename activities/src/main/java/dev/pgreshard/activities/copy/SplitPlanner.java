package dev.pgreshard.activities.copy;

import dev.pgreshard.activities.catalog.SourceShards;
import dev.pgreshard.core.config.PgReshardConfig;
import dev.pgreshard.core.pg.PgConnector;
import dev.pgreshard.core.topology.Cluster;
import dev.pgreshard.core.topology.Shard;
import dev.pgreshard.core.topology.TableName;
import dev.pgreshard.core.topology.Topology;
import dev.pgreshard.workflows.TaskRef;
import dev.pgreshard.workflows.copy.KeyRange;
import dev.pgreshard.workflows.copy.SplitPlan;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;

/**
 * Decides whether a table is copied whole or as key ranges (issue 21). A table is split when its
 * largest source shard exceeds copy_split_threshold_bytes and it has a single-column primary key: that
 * key is NOT NULL and ordered, so ranges [b(i), b(i+1)) with open outer ends partition every row, and a
 * retried range can delete exactly what it wrote. The boundaries are quantiles of a block sample read
 * now, not at the copy's snapshot: they only balance the ranges, any boundaries give a partition.
 */
final class SplitPlanner {
    private static final Logger LOG = LoggerFactory.getLogger(SplitPlanner.class);
    /** Ranges per table at most: each is an activity in the task's history. */
    static final int MAX_RANGES = 64;
    /** Rows the boundary sample aims at. */
    private static final long SAMPLE_ROWS = 100_000;

    private final PgReshardConfig config;
    private final PgConnector connector;
    private final TableCopier copier;

    SplitPlanner(PgReshardConfig config, PgConnector connector, TableCopier copier) {
        this.config = config;
        this.connector = connector;
        this.copier = copier;
    }

    SplitPlan plan(TaskRef task, TableName table) throws SQLException {
        Topology topology = Topology.of(config);
        Cluster source = topology.cluster(task.source());
        copier.prepareDestinations(topology.cluster(task.destination()), table, false);
        List<Shard> holding = SourceShards.holding(source, table);
        List<Integer> shards = holding.stream().map(Shard::index).toList();
        long threshold = CopySettings.splitThresholdBytes(config);
        Shard largest = null;
        long largestSize = -1;
        for (Shard shard : holding) {
            long size = relationSize(shard, table);
            if (size > largestSize) {
                largest = shard;
                largestSize = size;
            }
        }
        int count = (int) Math.min(MAX_RANGES, (largestSize + threshold - 1) / threshold);
        if (count <= 1) {
            return whole(table, shards, "not above copy_split_threshold_bytes (" + largestSize + " bytes)");
        }
        try (Connection c = connector.open(largest)) {
            String[] key = singleColumnKey(c, table);
            if (key == null) {
                LOG.info("{} ({} bytes) is copied whole: it has no single-column primary key to split it by", table,
                        largestSize);
                return whole(table, shards, "no single-column primary key to split by");
            }
            List<String> bounds = boundaries(c, table, key[0], count);
            List<KeyRange> ranges = new ArrayList<>();
            String from = null;
            for (String b : bounds) {
                ranges.add(new KeyRange(from, b));
                from = b;
            }
            ranges.add(new KeyRange(from, null));
            LOG.info("{} ({} bytes on {}) is copied as {} key range(s) of {}", table, largestSize, largest.describe(),
                    ranges.size(), key[0]);
            return new SplitPlan(table, key[0], key[1], shards, ranges, ranges.size() + " key ranges of " + key[0]);
        }
    }

    private static SplitPlan whole(TableName table, List<Integer> shards, String reason) {
        return new SplitPlan(table, "", "", shards, List.of(), reason);
    }

    private long relationSize(Shard shard, TableName table) throws SQLException {
        try (Connection c = connector.open(shard);
             PreparedStatement ps = c.prepareStatement("SELECT pg_relation_size(to_regclass(?))")) {
            ps.setString(1, table.quoted());
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        }
    }

    /** {quoted column, format_type} of a one-column primary key, or null. */
    private static String[] singleColumnKey(Connection c, TableName table) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("""
                SELECT quote_ident(a.attname), format_type(a.atttypid, a.atttypmod)
                FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
                WHERE i.indrelid = to_regclass(?) AND i.indisprimary AND i.indnkeyatts = 1 AND i.indkey[0] > 0""")) {
            ps.setString(1, table.quoted());
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? new String[] {rs.getString(1), rs.getString(2)} : null;
            }
        }
    }

    /** {@code count - 1} distinct quantiles of the key in a block sample, ascending, as text. */
    private static List<String> boundaries(Connection c, TableName table, String key, int count) throws SQLException {
        long estimate;
        try (PreparedStatement ps = c.prepareStatement("SELECT greatest(reltuples, 0)::bigint FROM pg_class WHERE oid = to_regclass(?)")) {
            ps.setString(1, table.quoted());
            try (ResultSet rs = ps.executeQuery()) {
                estimate = rs.next() ? rs.getLong(1) : 0;
            }
        }
        double percent = estimate <= SAMPLE_ROWS ? 100 : Math.max(0.01, 100.0 * SAMPLE_ROWS / estimate);
        Double[] fractions = new Double[count - 1];
        for (int i = 1; i < count; i++) {
            fractions[i - 1] = (double) i / count;
        }
        List<String> bounds = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT (percentile_disc(?::float8[]) WITHIN GROUP (ORDER BY "
                + key + "))::text[] FROM " + table.quoted() + " TABLESAMPLE SYSTEM (" + percent + ")")) {
            ps.setArray(1, c.createArrayOf("float8", fractions));
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                Array array = rs.getArray(1);
                if (array != null) {
                    for (String b : (String[]) array.getArray()) {
                        // the quantiles come ascending; a repeated one would only make an empty range
                        if (b != null && (bounds.isEmpty() || !bounds.get(bounds.size() - 1).equals(b))) {
                            bounds.add(b);
                        }
                    }
                }
            }
        }
        return bounds;
    }
}
