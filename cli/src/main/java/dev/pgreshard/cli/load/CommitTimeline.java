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
    /** Of each commit's run: how long its first statement took (it is the one a pause holds), and its COMMIT. */
    private int[] firstMicros = new int[1 << 16];
    private int[] commitMicros = new int[1 << 16];
    private int size;

    /**
     * A commit acknowledged at {@code endedAtMillis} (System.currentTimeMillis()) after {@code tookNanos}, of
     * which its first statement took {@code firstNanos} and the COMMIT itself {@code commitNanos} (so a report
     * can tell a client held at its transaction's start from one slowed afterwards).
     */
    public synchronized void record(long endedAtMillis, long tookNanos, long firstNanos, long commitNanos) {
        if (size == this.endedAtMillis.length) {
            this.endedAtMillis = Arrays.copyOf(this.endedAtMillis, size * 2);
            this.tookMicros = Arrays.copyOf(this.tookMicros, size * 2);
            this.firstMicros = Arrays.copyOf(this.firstMicros, size * 2);
            this.commitMicros = Arrays.copyOf(this.commitMicros, size * 2);
        }
        this.endedAtMillis[size] = endedAtMillis;
        this.tookMicros[size] = tookNanos / 1000;
        this.firstMicros[size] = (int) Math.min(Integer.MAX_VALUE, firstNanos / 1000);
        this.commitMicros[size] = (int) Math.min(Integer.MAX_VALUE, commitNanos / 1000);
        size++;
    }

    /**
     * The longest commit (ms) whose run [end - took, end] overlaps [{@code fromMillis}, {@code toMillis}],
     * when it ended, and how many commits did; 0, 0 and 0 when none.
     */
    public synchronized Window around(long fromMillis, long toMillis) {
        long longestMicros = 0;
        long longestEnded = 0;
        int longest = -1;
        int commits = 0;
        for (int i = 0; i < size; i++) {
            long end = endedAtMillis[i];
            if (end >= fromMillis && end - tookMicros[i] / 1000 <= toMillis) {
                commits++;
                if (tookMicros[i] > longestMicros) {
                    longestMicros = tookMicros[i];
                    longestEnded = end;
                    longest = i;
                }
            }
        }
        return new Window(longestMicros / 1000.0, longestEnded, commits,
                longest < 0 ? 0 : firstMicros[longest] / 1000.0, longest < 0 ? 0 : commitMicros[longest] / 1000.0);
    }

    /**
     * Writes every commit recorded so far, so that a timeline kept in another process (clients in a JVM of
     * their own) can be read back with {@link #readFrom}: a count, then four numbers per commit.
     */
    public synchronized void writeTo(java.io.DataOutput out) throws java.io.IOException {
        out.writeInt(size);
        for (int i = 0; i < size; i++) {
            out.writeLong(endedAtMillis[i]);
            out.writeLong(tookMicros[i]);
            out.writeInt(firstMicros[i]);
            out.writeInt(commitMicros[i]);
        }
    }

    /** The timeline {@link #writeTo} wrote. */
    public static CommitTimeline readFrom(java.io.DataInput in) throws java.io.IOException {
        CommitTimeline t = new CommitTimeline();
        int n = in.readInt();
        for (int i = 0; i < n; i++) {
            long ended = in.readLong();
            long tookMicros = in.readLong();
            int firstMicros = in.readInt();
            int commitMicros = in.readInt();
            t.record(ended, tookMicros * 1000, firstMicros * 1000L, commitMicros * 1000L);
        }
        return t;
    }

    /**
     * What clients felt in a window: the longest commit (ms), when it ended (epoch ms; with its length,
     * where it lay against a pause), the number of commits in the window, and of the longest commit how
     * long its first statement and its COMMIT took (all 0 when the window has no commit).
     */
    public record Window(double longestMs, long longestEndedAtMillis, int commits, double longestFirstMs,
                         double longestCommitMs) {
        /** When the longest commit started (epoch ms). */
        public long longestStartedAtMillis() {
            return longestEndedAtMillis - Math.round(longestMs);
        }
    }
}
