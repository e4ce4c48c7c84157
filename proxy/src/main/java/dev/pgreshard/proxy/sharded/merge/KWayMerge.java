package dev.pgreshard.proxy.sharded.merge;

import java.util.ArrayDeque;
import java.util.Comparator;
import java.util.PriorityQueue;

/**
 * Merges the sorted row streams of several shards: a row can leave only when every shard still
 * sending has a row waiting (its next row could otherwise sort first). Equal rows leave in shard order.
 *
 * @param <R> a row with its decoded sort keys
 */
public final class KWayMerge<R> {
    private final ArrayDeque<R>[] queues;
    private final boolean[] finished;
    private final PriorityQueue<Integer> heads;
    private int waitingFor;
    private int queued;

    @SuppressWarnings("unchecked")
    public KWayMerge(int shards, Comparator<R> order) {
        queues = new ArrayDeque[shards];
        finished = new boolean[shards];
        for (int i = 0; i < shards; i++) {
            queues[i] = new ArrayDeque<>();
        }
        waitingFor = shards;
        heads = new PriorityQueue<>(shards, (a, b) -> {
            int c = order.compare(queues[a].peek(), queues[b].peek());
            return c != 0 ? c : Integer.compare(a, b);
        });
    }

    public void add(int shard, R row) {
        if (queues[shard].isEmpty()) {
            queues[shard].add(row);
            heads.add(shard);
            if (!finished[shard]) {
                waitingFor--;
            }
        } else {
            queues[shard].add(row);
        }
        queued++;
    }

    /** The shard sends no more rows. */
    public void finish(int shard) {
        if (!finished[shard]) {
            finished[shard] = true;
            if (queues[shard].isEmpty()) {
                waitingFor--;
            }
        }
    }

    /** The next row in order, or null when it cannot be known yet (or all rows are out). */
    public R poll() {
        if (waitingFor > 0 || heads.isEmpty()) {
            return null;
        }
        int shard = heads.poll();
        R row = queues[shard].poll();
        queued--;
        if (!queues[shard].isEmpty()) {
            heads.add(shard);
        } else if (!finished[shard]) {
            waitingFor++;
        }
        return row;
    }

    /** Rows held for {@code shard}. */
    public int queued(int shard) {
        return queues[shard].size();
    }

    public int queued() {
        return queued;
    }
}
