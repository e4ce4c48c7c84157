package dev.pgreshard.activities.preflight;

import dev.pgreshard.core.pg.PgConnector;
import dev.pgreshard.core.topology.Cluster;
import org.postgresql.PGConnection;

import java.io.OutputStream;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.List;
import java.util.Locale;

/**
 * The copy-time estimate of the plan: reads up to {@value #SAMPLE_BYTES} bytes' worth of rows of the
 * largest table from source shard 0 with the copy's own format (binary COPY), and scales the rate
 * to every table's size and the copy's parallelism. Read side only: the destination's inserts and
 * index builds are not sampled, so the estimate is a lower bound when the destination is slower.
 */
final class ThroughputSample {
    static final long SAMPLE_BYTES = 16L << 20;

    private ThroughputSample() {
    }

    static String estimate(PgConnector connector, Cluster source, List<TablePlan> tables, int parallelism,
                           long splitThreshold) {
        TablePlan largest = tables.stream().filter(t -> t.estimatedRows() > 0 && t.estimatedBytes() > 0).findFirst()
                .orElse(null);
        if (largest == null) {
            return "no estimate: the statistics say every table is empty (run ANALYZE on the source if they are not)";
        }
        double bytesPerRow = (double) largest.estimatedBytes() / largest.estimatedRows();
        long rows = Math.max(1, Math.min(largest.estimatedRows(), (long) (SAMPLE_BYTES / bytesPerRow)));
        long started = System.nanoTime();
        long copied;
        try (Connection c = connector.open(source.shard(0))) {
            Counting out = new Counting();
            c.unwrap(PGConnection.class).getCopyAPI().copyOut("COPY (SELECT * FROM " + largest.table().quoted()
                    + " LIMIT " + rows + ") TO STDOUT (FORMAT binary)", out);
            copied = out.bytes;
        } catch (SQLException | java.io.IOException e) {
            return "no estimate: the sample read of " + largest.table() + " failed (" + e.getMessage() + ")";
        }
        double seconds = Math.max(1e-3, (System.nanoTime() - started) / 1e9);
        double tableBytesPerSecond = rows * bytesPerRow / seconds;
        long total = 0;
        long pieces = 0;
        double longestPiece = 0;
        for (TablePlan t : tables) {
            long ranges = Math.max(1, (t.estimatedBytes() + splitThreshold - 1) / splitThreshold);
            total += t.estimatedBytes();
            pieces += ranges;
            longestPiece = Math.max(longestPiece, (double) t.estimatedBytes() / ranges);
        }
        long streams = Math.max(1, Math.min(parallelism, pieces));
        double estimate = Math.max(total / (tableBytesPerSecond * streams), longestPiece / tableBytesPerSecond);
        return String.format(Locale.ROOT, "about %s for %s in %d stream%s (sampled %,d rows of %s from %s: "
                        + "%.1f MB/s of table data, %.1f MB/s on the wire, in %.2f s; read side only — the "
                        + "destination's inserts and index builds can make it slower)",
                duration(estimate), megabytes(total), streams, streams == 1 ? "" : "s", rows, largest.table(),
                source.shard(0).describe(), tableBytesPerSecond / 1e6, copied / seconds / 1e6, seconds);
    }

    private static String duration(double seconds) {
        if (seconds < 60) {
            return String.format(Locale.ROOT, "%.0f s", Math.max(1, Math.ceil(seconds)));
        }
        if (seconds < 3600) {
            return String.format(Locale.ROOT, "%.0f min", Math.ceil(seconds / 60));
        }
        return String.format(Locale.ROOT, "%.1f h", seconds / 3600);
    }

    private static String megabytes(long bytes) {
        return String.format(Locale.ROOT, "%.1f MB", bytes / 1e6);
    }

    /** Counts what COPY writes and keeps none of it. */
    private static final class Counting extends OutputStream {
        long bytes;

        @Override
        public void write(int b) {
            bytes++;
        }

        @Override
        public void write(byte[] b, int off, int len) {
            bytes += len;
        }
    }
}
