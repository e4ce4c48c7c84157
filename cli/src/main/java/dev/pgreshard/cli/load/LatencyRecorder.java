package dev.pgreshard.cli.load;

import java.util.Arrays;

/** Commit latencies of a {@link WriteLoad}; thread-safe. The maximum is the longest client-visible stall. */
public final class LatencyRecorder {
    private long[] nanos = new long[1 << 14];
    private int count;
    private long maxNanos;
    private long maxEndedAtMs;

    synchronized void record(long latencyNanos) {
        if (count == nanos.length) {
            nanos = Arrays.copyOf(nanos, nanos.length * 2);
        }
        nanos[count++] = latencyNanos;
        if (latencyNanos > maxNanos) {
            maxNanos = latencyNanos;
            maxEndedAtMs = System.currentTimeMillis();
        }
    }

    /** Percentiles in milliseconds; {@code maxAt} is when the slowest commit returned. */
    public record Summary(long count, double p50Ms, double p99Ms, double maxMs, java.time.Instant maxAt) {
        @Override
        public String toString() {
            return String.format("%d commits, p50 %.1f ms, p99 %.1f ms, max %.1f ms (at %s)", count, p50Ms, p99Ms, maxMs, maxAt);
        }
    }

    synchronized Summary summary() {
        if (count == 0) {
            return new Summary(0, 0, 0, 0, null);
        }
        long[] sorted = Arrays.copyOf(nanos, count);
        Arrays.sort(sorted);
        return new Summary(count, ms(sorted[(int) Math.min(count - 1, Math.round(count * 0.50))]),
                ms(sorted[(int) Math.min(count - 1, Math.round(count * 0.99))]), ms(sorted[count - 1]),
                java.time.Instant.ofEpochMilli(maxEndedAtMs));
    }

    private static double ms(long nanos) {
        return nanos / 1_000_000.0;
    }
}
