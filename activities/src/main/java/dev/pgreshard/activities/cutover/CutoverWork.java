package dev.pgreshard.activities.cutover;

import dev.pgreshard.activities.replication.SlotManager;
import dev.pgreshard.activities.replication.StreamEndpoints;
import dev.pgreshard.core.pg.PgConnector;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.List;

/**
 * What a cutover does besides moving the route: reverse replication prepared before the pause (its
 * publication and slots, {@link ReverseSlots}) and its skip point written inside it, alongside the
 * sequences; the source fenced (writes revoked) when asked. An aborted attempt grants the writes back
 * and drops the reverse slots and progress rows once clients run again (a slot would hold the
 * destination's WAL until the next attempt).
 */
final class CutoverWork implements TrafficSwitch.PausedWork {
    private static final Logger log = LoggerFactory.getLogger(CutoverWork.class);

    /** Finds the source's fence before the pause; answers null when the source is not to be fenced. */
    interface FenceLookup {
        SourceFence find() throws SQLException;
    }

    private final PgConnector connector;
    private final StreamEndpoints reverse;
    private final FenceLookup fenceLookup;
    private SourceFence fence;
    private List<Connection> fenced = List.of();
    private ReverseSlots slots;
    private long skipStarted;
    private long skipMs = -1;

    CutoverWork(PgConnector connector, StreamEndpoints reverse, FenceLookup fenceLookup) {
        this.connector = connector;
        this.reverse = reverse;
        this.fenceLookup = fenceLookup;
    }

    @Override
    public void prepare() throws SQLException {
        slots = ReverseSlots.prepare(connector, reverse);
        fence = fenceLookup.find();
    }

    /** How many reverse slots an earlier attempt had left (reused by this one). */
    int reusedSlots() {
        return slots == null ? 0 : slots.reused();
    }

    @Override
    public void startAlongside(StreamDrain drain) {
        skipStarted = System.nanoTime();
        slots.startSkipPoint(drain.writePositionsAfterDrain());
    }

    @Override
    public void whilePaused(StreamDrain drain, PauseClock clock) throws SQLException {
        if (fence != null) {
            fence.revoke(drain.readShards());
            fenced = drain.readShards();
        }
        slots.await(clock.remainingMs());
        skipMs = (System.nanoTime() - skipStarted) / 1_000_000;
    }

    @Override
    public String alongsideReport() {
        return skipMs < 0 ? "" : "reverse start written in " + skipMs + " ms, alongside the sequences";
    }

    @Override
    public void undo() {
        try {
            if (!fenced.isEmpty()) {
                fence.grant(fenced);
            }
        } catch (SQLException | RuntimeException e) {
            log.warn("granting writes back on the source after the aborted cutover of {}: {}; grant them by hand",
                    reverse.task().taskId(), e.getMessage());
        }
    }

    @Override
    public void cleanUpAfterAbort() {
        if (slots == null) {
            return; // prepare did not complete: a slot of that name may not be ours; a retry reuses ours, a stop drops them
        }
        try {
            slots.awaitQuietly(); // a skip point still being written would outlive the drop
            new SlotManager(connector).dropSlots(reverse);
        } catch (SQLException | RuntimeException e) {
            log.warn("dropping the reverse slots of the aborted cutover of {}: {} (the task's cleanup drops them "
                    + "again)", reverse.task().taskId(), e.getMessage());
        }
    }

    @Override
    public void close() {
        if (slots != null) {
            slots.close();
        }
    }
}
