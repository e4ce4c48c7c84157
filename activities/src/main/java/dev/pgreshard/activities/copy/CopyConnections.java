package dev.pgreshard.activities.copy;

import dev.pgreshard.core.pg.PgConnector;
import dev.pgreshard.core.topology.Shard;
import org.postgresql.core.BaseConnection;
import org.postgresql.core.TransactionState;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The ordinary connections of one copier, reused from range to range and table to table. Opening one
 * costs a server process and, under SCRAM, 4096 HMAC rounds in this JVM — enough of them to keep the
 * JIT compiler busy: a data-sync of four tables to two shards opened 38 connections, at 30–50 ms each on
 * a loaded machine, most of them on a copy stream's critical path (bench/copy, 2026-12-02).
 * <p>
 * A connection comes back only from work that ended cleanly (autocommit, no transaction open, not
 * closed or aborted); anything else is closed by its user. Idle connections are kept only while a copy
 * is in progress ({@link #enter()} / {@link #leave()}): when the last one ends they are closed, so a
 * worker between activities holds none. Thread-safe.
 */
final class CopyConnections {
    /** Work done on a connection; its result is returned. */
    interface Work<T> {
        T on(Connection c) throws SQLException;
    }

    private final PgConnector connector;
    private final int idlePerShard;
    private final Map<Shard, ArrayDeque<Connection>> idle = new HashMap<>();
    private int copies;
    private final java.util.concurrent.atomic.AtomicInteger opened = new java.util.concurrent.atomic.AtomicInteger();

    /** @param idlePerShard how many idle connections to keep per shard (the copy streams' parallelism) */
    CopyConnections(PgConnector connector, int idlePerShard) {
        this.connector = connector;
        this.idlePerShard = Math.max(1, idlePerShard);
    }

    /** An idle connection to {@code shard}, else a new one. */
    Connection take(Shard shard) throws SQLException {
        while (true) {
            Connection c;
            synchronized (this) {
                ArrayDeque<Connection> q = idle.get(shard);
                c = q == null ? null : q.pollLast();
            }
            if (c == null) {
                opened.incrementAndGet();
                return connector.open(shard);
            }
            if (!c.isClosed()) {
                return c;
            }
        }
    }

    /** Hands back a connection whose work ended cleanly; it is kept for the next taker or closed. */
    void give(Shard shard, Connection c) {
        boolean kept = false;
        if (reusable(c)) {
            synchronized (this) {
                ArrayDeque<Connection> q = idle.computeIfAbsent(shard, s -> new ArrayDeque<>());
                if (copies > 0 && q.size() < idlePerShard) {
                    q.addLast(c);
                    kept = true;
                }
            }
        }
        if (!kept) {
            close(c);
        }
    }

    /** Runs {@code work} on a connection to {@code shard}: handed back when it succeeds, closed when it throws. */
    <T> T with(Shard shard, Work<T> work) throws SQLException {
        Connection c = take(shard);
        try {
            T result = work.on(c);
            give(shard, c);
            return result;
        } catch (SQLException | RuntimeException | Error e) {
            close(c);
            throw e;
        }
    }

    /** A copy starts: connections handed back from now on are kept. */
    synchronized void enter() {
        copies++;
    }

    /** A copy ended: with none left in progress, every idle connection is closed. */
    void leave() {
        List<Connection> closing = new ArrayList<>();
        synchronized (this) {
            if (--copies > 0) {
                return;
            }
            copies = 0;
            idle.values().forEach(closing::addAll);
            idle.clear();
        }
        closing.forEach(CopyConnections::close);
    }

    /** Connections opened so far (tests). */
    int opened() {
        return opened.get();
    }

    /** Idle connections held now (tests). */
    synchronized int idle() {
        return idle.values().stream().mapToInt(ArrayDeque::size).sum();
    }

    private static boolean reusable(Connection c) {
        try {
            return !c.isClosed() && c.getAutoCommit()
                    && c.unwrap(BaseConnection.class).getTransactionState() == TransactionState.IDLE;
        } catch (SQLException e) {
            return false;
        }
    }

    static void close(Connection c) {
        if (c == null) {
            return;
        }
        try {
            c.close();
        } catch (SQLException ignored) {
            // a connection given up on: nothing of it is used any more
        }
    }
}
