package dev.pgreshard.proxy.session;

import dev.pgreshard.proxy.ProxyContext;
import io.netty.buffer.ByteBuf;
import dev.pgreshard.proxy.routing.RoutingTable;
import io.netty.channel.Channel;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayDeque;

/**
 * The message phase's admission of client messages: they queue here, as the reads brought them (runs of
 * whole messages, walked in place: no object per message), and are handed to the session's handler one
 * message at a time as fast as it takes them. At each transaction boundary the next one passes the pause gate (a
 * paused database parks the session, the client sees only delay) and the routing-epoch check (a changed
 * route moves the session to the new cluster first). The client socket is read only while few messages
 * are queued, the gate does not hold the session and the servers can take more (back-pressure).
 * Event loop only, except {@link #busy}, which the pause controller counts.
 */
final class MessagePump {
    private static final Logger LOG = LoggerFactory.getLogger(ClientSession.class);
    /** Above this many bytes of unprocessed client messages the socket stops being read (back-pressure). */
    private static final int INPUT_HIGH_WATER = 64 * 1024;

    private final ClientSession session;
    private final ProxyContext proxy;
    /** Runs of whole client messages; each one's reader index is at its next unhandled message. */
    private final ArrayDeque<ByteBuf> input = new ArrayDeque<>();
    private int queuedBytes;
    private final GateHold hold;
    private boolean backendBackpressure;
    private volatile boolean busy;

    MessagePump(ClientSession session, ProxyContext proxy) {
        this.session = session;
        this.proxy = proxy;
        this.hold = new GateHold(proxy.metrics());
    }

    /** Queues whole client messages of the message phase (ownership passes) and pumps. */
    void add(ByteBuf messages) {
        input.add(messages);
        queuedBytes += messages.readableBytes();
        pump();
    }

    /** Bytes of client messages not yet handed to the handler. */
    int queued() {
        return queuedBytes;
    }

    boolean holding() {
        return hold.holding();
    }

    /** A transaction or request is in flight (the gate did not park it). */
    boolean busy() {
        return busy;
    }

    /** Feeds queued client messages to the handler, stopping at the gate or when the handler is busy. */
    void pump() {
        if (!session.isReady()) {
            updateReading();
            return;
        }
        String database = session.database();
        while (!input.isEmpty() && !hold.holding() && session.isReady()) {
            QueryHandler handler = session.handler();
            ByteBuf run = input.peek();
            int at = run.readerIndex();
            char type = (char) run.getByte(at);
            int length = run.getInt(at + 1) + 1;
            if (handler.blocked(type)) {
                break;
            }
            if (handler.awaitingAnswers() && handler.betweenRequests() && proxy.gate().isPaused(database)) {
                // a pipelined request may start a new transaction: wait for the answers, then decide at the gate
                break;
            }
            if (handler.idle() && type != 'X') {
                // busy before asking the gate, the controller pauses before counting busy sessions: either this
                // session sees the pause, or the pause's in-flight count sees this session (both are volatile)
                busy = true;
                if (!proxy.gate().admit(database, this::releasedByGate)) {
                    busy = false;
                    hold.start();
                    break;
                }
                handler = moveIfRouteChanged(handler);
            }
            run.readerIndex(at + length);
            queuedBytes -= length;
            boolean last = !run.isReadable();
            if (last) {
                input.poll(); // out of the queue first: a Terminate closes the session, and with it the queue
            }
            try {
                handler.handle(run, at, length);
            } finally {
                if (last) {
                    run.release();
                }
            }
        }
        QueryHandler h = session.handler();
        busy = session.isReady() && h != null && !h.idle();
        updateReading();
    }

    /** Moves the session to its database's route when that changed; the caller is at a transaction boundary. */
    private QueryHandler moveIfRouteChanged(QueryHandler handler) {
        String database = session.database();
        RoutingTable.Route route = proxy.routing().route(database);
        if (route == null || route.epoch() == handler.epoch()) {
            return handler;
        }
        LOG.info("session {} moves {} to cluster {} (epoch {})", session.processId(), database,
                route.cluster().name(), route.epoch());
        // the old servers' sockets are closed with the switch: a "cannot take more" of theirs would never be lifted
        backendBackpressure = false;
        QueryHandler next = proxy.handlers().moveTo(session, handler, route);
        session.replaceHandler(next);
        return next;
    }

    /**
     * Moves the session to a changed route now if it is at a transaction boundary with nothing in flight
     * and nothing queued but what the gate holds (a held client moves before its release). Returns
     * whether it moved.
     */
    boolean moveIfIdle() {
        QueryHandler handler = session.handler();
        if (handler == null || !handler.idle() || handler.awaitingAnswers() || (!input.isEmpty() && !hold.holding())) {
            return false;
        }
        long before = handler.epoch();
        QueryHandler now = moveIfRouteChanged(handler);
        return now != handler || now.epoch() != before;
    }

    private void releasedByGate() {
        long releasedAt = System.nanoTime();
        session.eventLoop().execute(() -> {
            session.traceRelease(releasedAt, hold.heldSince());
            hold.release(session.database());
            session.pumpAndFlush();
        });
    }

    private void updateReading() {
        Channel channel = session.channel();
        if (channel != null) {
            boolean read = queuedBytes < INPUT_HIGH_WATER && !hold.holding() && !backendBackpressure;
            if (read != channel.config().isAutoRead()) { // a read of a volatile, not a write on every message
                channel.config().setAutoRead(read);
            }
        }
    }

    /** A backend socket cannot take more: stop reading the client until it can. */
    void backendWritable(boolean writable) {
        backendBackpressure = !writable;
        updateReading();
    }

    /** The session closed: drops the queued messages and ends a running hold. */
    void close() {
        busy = false;
        hold.close(session.database());
        input.forEach(ByteBuf::release);
        input.clear();
        queuedBytes = 0;
    }
}
