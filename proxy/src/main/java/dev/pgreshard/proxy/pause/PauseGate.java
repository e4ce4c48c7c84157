package dev.pgreshard.proxy.pause;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The pause gate, one per proxy. A session asks {@link #admit} before it starts a client's next
 * transaction; while the database is paused the request is parked and the session holds the
 * client's bytes (the client sees only delay). {@link #resume} releases the parked sessions in the
 * order they arrived. Sessions already inside a transaction never ask, so they run to its end.
 */
public final class PauseGate {
    private final Object lock = new Object();
    private final Map<String, ArrayDeque<Runnable>> paused = new ConcurrentHashMap<>();
    /** Fast path: no lock and no map lookup while nothing at all is paused. */
    private volatile boolean anyPaused;

    /** Pauses {@code databases}; pausing a paused database changes nothing. */
    public void pause(Collection<String> databases) {
        synchronized (lock) {
            for (String db : databases) {
                paused.putIfAbsent(db, new ArrayDeque<>());
            }
            anyPaused = !paused.isEmpty();
        }
    }

    /** Resumes {@code databases}, running their parked sessions' continuations in arrival order. */
    public void resume(Collection<String> databases) {
        List<Runnable> release = new ArrayList<>();
        synchronized (lock) {
            for (String db : databases) {
                ArrayDeque<Runnable> waiting = paused.remove(db);
                if (waiting != null) {
                    release.addAll(waiting);
                }
            }
            anyPaused = !paused.isEmpty();
        }
        release.forEach(Runnable::run);
    }

    public boolean isPaused(String database) {
        return anyPaused && paused.containsKey(database);
    }

    public List<String> pausedDatabases() {
        synchronized (lock) {
            return List.copyOf(paused.keySet());
        }
    }

    /** Parked sessions of {@code database} (waiting for a resume). */
    public int waiting(String database) {
        synchronized (lock) {
            ArrayDeque<Runnable> q = paused.get(database);
            return q == null ? 0 : q.size();
        }
    }

    /**
     * True when a transaction of {@code database} may start now. Otherwise parks {@code onRelease}
     * (which must hand over to the session's own thread) and returns false.
     */
    public boolean admit(String database, Runnable onRelease) {
        if (!anyPaused) {
            return true;
        }
        synchronized (lock) {
            ArrayDeque<Runnable> q = paused.get(database);
            if (q == null) {
                return true;
            }
            q.add(onRelease);
            return false;
        }
    }
}
