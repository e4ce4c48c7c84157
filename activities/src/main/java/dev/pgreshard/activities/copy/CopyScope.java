package dev.pgreshard.activities.copy;

import dev.pgreshard.core.topology.Shard;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The connections one table copy (or one key range of a split copy) holds right now, taken from the
 * copier's {@link CopyConnections}, so that a failure or a cancellation can abort every stream of it at
 * once: nothing of a stopped copy may still commit. A connection handed back leaves the scope first,
 * so an abort never reaches a connection that another copy took from the pool since; a connection
 * taken after the stop is aborted at once.
 */
final class CopyScope {
    private final CopyConnections pool;
    private final String what;
    private final Set<Connection> held = ConcurrentHashMap.newKeySet();
    private volatile boolean stopped;

    /** @param what the copy, as a stop names it ("copy of range 2 of public.t") */
    CopyScope(CopyConnections pool, String what) {
        this.pool = pool;
        this.what = what;
    }

    /** A connection to {@code shard}, held by this scope until handed back or dropped. */
    Connection take(Shard shard) throws SQLException {
        Connection c = pool.take(shard);
        held.add(c);
        if (stopped && held.remove(c)) {
            abort(c);
            throw new IllegalStateException(what + " was stopped");
        }
        return c;
    }

    /** The work on {@code c} ended cleanly: back to the pool (unless an abort got to it first). */
    void giveBack(Shard shard, Connection c) {
        if (c != null && held.remove(c)) {
            pool.give(shard, c);
        }
    }

    /** The work on {@code c} failed: closed, never reused. */
    void drop(Connection c) {
        if (c != null) {
            held.remove(c);
            CopyConnections.close(c);
        }
    }

    /** Aborts every connection held (their transactions roll back) and every one taken from now on. */
    void abortAll() {
        stopped = true;
        for (Connection c : held) {
            if (held.remove(c)) {
                abort(c);
            }
        }
    }

    private static void abort(Connection c) {
        try {
            c.abort(Runnable::run);
        } catch (SQLException | RuntimeException ignored) {
            // best effort: the stream is being abandoned
        }
    }
}
