package dev.pgreshard.cli.load;

import java.util.Arrays;

/**
 * When each commit of a {@link WriteLoad} ended and how long it took, so that a benchmark can ask what
 * clients felt around a moment (a cutover): the longest commit of any client overlapping a window of
 * wall-clock time. Thread-safe; two longs per commit.
 */
public final class CommitTimeline {
    private long[] endedAtMillis = new long[1 << 16];
    private long[] tookMicros = new long[1 << 16];
    private int size;

    /** A commit acknowledged at {@code endedAtMillis} (System.currentTimeMillis()) after {@code tookNanos}. */
    public synchronized void record(long endedAtMillis, long tookNanos) {
        if (size == this.endedAtMillis.length) {
            this.endedAtMillis = Arrays.copyOf(this.endedAtMillis, size * 2);
            this.tookMicros = Arrays.copyOf(this.tookMicros, size * 2);
        }
        this.endedAtMillis[size] = endedAtMillis;
        this.tookMicros[size] = tookNanos / 1000;
        size++;
    }

    /**
     * The longest commit (ms) whose run [end - took, end] overlaps [{@code fromMillis}, {@code toMillis}],
     * when it ended, and how many commits did; 0, 0 and 0 when none.
     */
    public synchronized Window around(long fromMillis, long toMillis) {
        long longestMicros = 0;
        long longestEnded = 0;
        int commits = 0;
        for (int i = 0; i < size; i++) {
            long end = endedAtMillis[i];
            if (end >= fromMillis && end - tookMicros[i] / 1000 <= toMillis) {
                commits++;
                if (tookMicros[i] > longestMicros) {
                    longestMicros = tookMicros[i];
                    longestEnded = end;
                }
            }
        }
        return new Window(longestMicros / 1000.0, longestEnded, commits);
    }

    /**
     * What clients felt in a window: the longest commit (ms), when it ended (epoch ms; with its length,
     * where it lay against a pause), and the number of commits in the window.
     */
    public record Window(double longestMs, long longestEndedAtMillis, int commits) {
        /** When the longest commit started (epoch ms). */
        public long longestStartedAtMillis() {
            return longestEndedAtMillis - Math.round(longestMs);
        }
    }
}
