package dev.pgreshard.proxy.backend;

import dev.pgreshard.proxy.protocol.FrontendMessages;
import dev.pgreshard.proxy.protocol.PgFrame;
import dev.pgreshard.proxy.protocol.RelayedBytes;
import dev.pgreshard.proxy.protocol.ServerMessages;
import dev.pgreshard.proxy.protocol.Wire;
import io.netty.channel.EventLoop;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.netty.util.concurrent.Future;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static dev.pgreshard.proxy.protocol.FrontendMessages.UNPOOLED;

/**
 * Server connections whose client session ended between transactions, kept logged in for the next
 * session that would open the same one (same server, database, role, password and startup parameters),
 * as PgBouncer's session mode keeps them. A PostgreSQL backend is expensive while it is new, not only to
 * start: until it has touched the shared buffers its work faults their pages into its own page tables
 * (bench/proxy, 2026-12-03: 0.4–0.6 page faults and 20–35 µs more of the server's CPU per select-only
 * transaction over a client's first 8 s than on a backend that served a client before). Clients that
 * connect per job or per request pay that each time without reuse.
 * <p>
 * A connection is reset with {@code DISCARD ALL} before it is offered again — PostgreSQL's own "as if
 * new" for a session: settings (and SET ROLE / SESSION AUTHORIZATION), prepared statements, cursors,
 * temporary tables, LISTENs, session advisory locks, sequence state — and is offered only if that
 * succeeded at a transaction boundary. Unused for the idle timeout, it is closed. A connection lives on
 * one event loop and is offered only to sessions of that loop; all state of a loop is touched by that
 * loop's thread only.
 */
public final class IdleServerConnections {
    private static final Logger LOG = LoggerFactory.getLogger(IdleServerConnections.class);

    private final long idleTimeoutNanos;
    private final Map<EventLoop, LoopIdle> byLoop = new ConcurrentHashMap<>();
    private final AtomicInteger idle = new AtomicInteger();
    private volatile boolean closed;

    /** Keeps connections for {@code idleTimeoutMs}; 0 keeps none (every session logs in anew). */
    public IdleServerConnections(long idleTimeoutMs) {
        this.idleTimeoutNanos = TimeUnit.MILLISECONDS.toNanos(idleTimeoutMs);
    }

    public boolean enabled() {
        return idleTimeoutNanos > 0 && !closed;
    }

    /** Connections kept logged in and reset, ready to be taken (all loops). */
    public int idleCount() {
        return idle.get();
    }

    /**
     * A reset connection logged in as {@code key} on {@code loop}, now heard by {@code listener}; null if
     * there is none. Event loop {@code loop} only.
     */
    public BackendConnection take(EventLoop loop, BackendConnection.LoginKey key, BackendListener listener) {
        LoopIdle pool = byLoop.get(loop);
        return pool == null ? null : pool.take(key, listener);
    }

    /**
     * Takes over the connection of a session that ended with it idle at a transaction boundary: reset, then
     * kept; closed instead when reuse is off or the proxy is closing. Event loop of the connection only.
     */
    public void giveBack(BackendConnection b, EventLoop loop) {
        if (!enabled() || b.isClosed() || !b.isReady()) {
            b.close();
            return;
        }
        new Reset(b, byLoop.computeIfAbsent(loop, LoopIdle::new)).start();
    }

    /**
     * Closes every kept connection (Terminate, then the socket) and keeps none from now on: the proxy is
     * stopping. Waits up to {@code waitMs} for the sockets to close, so that the event loops' shutdown
     * does not leave them open. Any thread but an event loop's.
     */
    public void closeAll(long waitMs) {
        closed = true;
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(waitMs);
        List<Future<List<Future<Void>>>> closing = new ArrayList<>();
        byLoop.values().forEach(pool -> {
            try {
                closing.add(pool.loop.submit(pool::closeAll));
            } catch (RejectedExecutionException e) {
                LOG.debug("event loop already stopped; its idle server connections close with it");
            }
        });
        for (Future<List<Future<Void>>> loopDone : closing) {
            if (loopDone.awaitUninterruptibly(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS)
                    && loopDone.isSuccess()) {
                loopDone.getNow().forEach(f -> f.awaitUninterruptibly(Math.max(0, deadline - System.nanoTime()),
                        TimeUnit.NANOSECONDS));
            }
        }
    }

    /** The kept connections of one event loop; its thread only. */
    private final class LoopIdle {
        private final EventLoop loop;
        private final Map<BackendConnection.LoginKey, ArrayDeque<Kept>> kept = new HashMap<>();
        private boolean sweepScheduled;

        LoopIdle(EventLoop loop) {
            this.loop = loop;
        }

        BackendConnection take(BackendConnection.LoginKey key, BackendListener listener) {
            ArrayDeque<Kept> same = kept.get(key);
            while (same != null && !same.isEmpty()) {
                Kept k = same.pollLast(); // the most recently used: its server process is the warmest
                idle.decrementAndGet();
                if (!k.connection.isClosed()) {
                    k.connection.listenTo(listener);
                    return k.connection;
                }
            }
            return null;
        }

        void keep(BackendConnection b) {
            if (closed) {
                b.close();
                return;
            }
            kept.computeIfAbsent(b.loginKey(), k -> new ArrayDeque<>()).addLast(new Kept(b, System.nanoTime()));
            idle.incrementAndGet();
            scheduleSweep();
        }

        /** A kept connection the server ended or lost: out of the pool. */
        void forget(BackendConnection b) {
            ArrayDeque<Kept> same = kept.get(b.loginKey());
            if (same != null && same.removeIf(k -> k.connection == b)) {
                idle.decrementAndGet();
            }
        }

        private void scheduleSweep() {
            if (!sweepScheduled) {
                sweepScheduled = true;
                loop.schedule(this::sweep, Math.max(idleTimeoutNanos / 2, TimeUnit.MILLISECONDS.toNanos(100)),
                        TimeUnit.NANOSECONDS);
            }
        }

        private void sweep() {
            sweepScheduled = false;
            long now = System.nanoTime();
            boolean left = false;
            for (Iterator<ArrayDeque<Kept>> it = kept.values().iterator(); it.hasNext(); ) {
                ArrayDeque<Kept> same = it.next();
                // oldest first: each deque is in the order the connections were kept
                while (!same.isEmpty() && now - same.peekFirst().since >= idleTimeoutNanos) {
                    same.pollFirst().connection.close();
                    idle.decrementAndGet();
                }
                if (same.isEmpty()) {
                    it.remove();
                } else {
                    left = true;
                }
            }
            if (left) {
                scheduleSweep();
            }
        }

        List<Future<Void>> closeAll() {
            List<Future<Void>> closes = new ArrayList<>();
            kept.values().forEach(same -> same.forEach(k -> {
                k.connection.close();
                closes.add(k.connection.closeFuture());
                idle.decrementAndGet();
            }));
            kept.clear();
            return closes;
        }
    }

    private record Kept(BackendConnection connection, long since) {
    }

    /**
     * Hears a connection from its hand-over through its reset and for as long as it is kept: a ParameterStatus
     * updates what the next session is told; an error of the reset, a transaction left open, the server's
     * end or a lost connection take it out.
     */
    private final class Reset implements BackendListener {
        private final BackendConnection b;
        private final LoopIdle pool;
        private boolean resetting = true;
        private boolean failed;

        Reset(BackendConnection b, LoopIdle pool) {
            this.b = b;
            this.pool = pool;
        }

        void start() {
            b.listenTo(this);
            b.relay(false); // the reset's answer is read message by message
            b.setAutoRead(true);
            b.write(FrontendMessages.query(UNPOOLED, "DISCARD ALL"));
            b.flush();
        }

        @Override
        public void onBackendReady(BackendConnection backend) {
        }

        @Override
        public void onBackendMessage(BackendConnection backend, PgFrame frame) {
            try {
                switch (frame.typeChar()) {
                    case 'S' -> {
                        var body = frame.body();
                        b.parameters().put(Wire.readCString(body), Wire.readCString(body));
                    }
                    case 'E' -> {
                        failed = true;
                        LOG.debug("resetting a server connection to {} for reuse failed: {}", b.shard().describe(),
                                ServerMessages.describeError(frame));
                    }
                    case 'Z' -> {
                        if (resetting) {
                            resetting = false;
                            if (failed || ServerMessages.readyStatus(frame) != 'I') {
                                b.close();
                            } else {
                                pool.keep(b);
                            }
                        }
                    }
                    default -> {
                        // CommandComplete of the reset, notices, a notification sent before the UNLISTEN: no one's
                    }
                }
            } finally {
                frame.release();
            }
        }

        @Override
        public void onBackendBytes(BackendConnection backend, RelayedBytes bytes) {
            bytes.release(); // relayed before relay(false) took effect: the ended session's, no one's now
        }

        @Override
        public void onBackendEnded(BackendConnection backend, PgFrame fatal) {
            fatal.release(); // the connection marked itself closed before telling us
            pool.forget(b);
        }

        @Override
        public void onBackendReadComplete(BackendConnection backend) {
        }

        @Override
        public void onBackendFailure(BackendConnection backend, String sqlState, String message) {
            LOG.debug("idle server connection to {} lost: {}", b.shard().describe(), message);
            pool.forget(b);
        }
    }
}
