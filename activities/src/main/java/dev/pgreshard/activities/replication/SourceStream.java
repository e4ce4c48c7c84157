package dev.pgreshard.activities.replication;

import dev.pgreshard.activities.replication.ProgressTable.Progress;
import dev.pgreshard.activities.replication.pgoutput.PgOutputDecoder;
import dev.pgreshard.activities.replication.pgoutput.PgOutputMessage;
import dev.pgreshard.core.pg.Identifiers;
import dev.pgreshard.core.pg.Lsn;
import dev.pgreshard.core.pg.PgConnector;
import dev.pgreshard.core.pg.StreamConnection;
import dev.pgreshard.core.topology.Shard;
import dev.pgreshard.core.topology.TableName;
import dev.pgreshard.workflows.replication.StreamPosition;
import org.postgresql.PGConnection;
import org.postgresql.replication.LogSequenceNumber;
import org.postgresql.replication.PGReplicationStream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.ByteBuffer;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * One source shard's stream: reads its slot through PgJDBC's replication API, hands decoded
 * messages to a {@link ChangeRouter}, commits batches of source transactions on the destination
 * shards, and only then confirms the slot (flushed = applied = the position durable on every
 * destination shard). Runs on its own thread until {@link #stop()} or a failure.
 */
final class SourceStream implements Runnable {
    private static final Logger log = LoggerFactory.getLogger(SourceStream.class);

    private final StreamEndpoints endpoints;
    private final int sourceShard;
    private final PgConnector connector;
    private final Map<TableName, Lsn> copySnapshots;
    private final ReplicationSettings settings;
    private final PgOutputDecoder decoder = new PgOutputDecoder();

    private volatile boolean stopRequested;
    private volatile Throwable failure;
    private volatile boolean running;
    // what status() reports; written by the stream thread only
    private volatile Lsn currentLsn = Lsn.INVALID;
    private volatile Lsn appliedLsn = Lsn.INVALID;
    private volatile long lastCommitEpochMs;
    private volatile boolean caughtUp;
    private volatile long changesApplied;
    private volatile long catchUpMessages;
    /** When the oldest source transaction of the batch being filled ended (its age closes the batch). */
    private long batchStartedNs;
    private final StreamStats stats;
    /** A read that took this long waited for the walsender (reads of bytes already here take a few µs). */
    private static final long WAITED_READ_NS = 20_000;
    /** Pause after such a read when the socket is empty; the walsender fills it meanwhile (measured 2026-12-01). */
    private static final long CAUGHT_UP_PAUSE_MS = 1;

    SourceStream(StreamEndpoints endpoints, int sourceShard, PgConnector connector, Map<TableName, Lsn> copySnapshots,
                 ReplicationSettings settings) {
        this.endpoints = endpoints;
        this.sourceShard = sourceShard;
        this.connector = connector;
        this.copySnapshots = copySnapshots;
        this.settings = settings;
        this.stats = new StreamStats(endpoints.describe(sourceShard));
    }

    int sourceShard() {
        return sourceShard;
    }

    void stop() {
        stopRequested = true;
    }

    Throwable failure() {
        return failure;
    }

    boolean isRunning() {
        return running;
    }

    long changesApplied() {
        return changesApplied;
    }

    /** Messages of backlog read through SQL decoding since start (tests, logs). */
    long catchUpMessages() {
        return catchUpMessages;
    }

    StreamPosition position() {
        return new StreamPosition(sourceShard, currentLsn, appliedLsn, lastCommitEpochMs);
    }

    /** Seconds since the last applied commit, 0 when nothing is waiting to be applied. */
    double lagSeconds(long nowMs) {
        if (caughtUp || lastCommitEpochMs == 0) {
            return 0;
        }
        return Math.max(0, (nowMs - lastCommitEpochMs) / 1000.0);
    }

    @Override
    public void run() {
        running = true;
        Shard shard = endpoints.readCluster().shard(sourceShard);
        List<ShardApplier> appliers = new ArrayList<>();
        try (Connection sql = connector.open(shard)) {
            if (!SlotControl.tryLock(sql, endpoints.slotName(sourceShard))) {
                throw explainSlotFailure(new SQLException("another session reads the slot", "55006"));
            }
            for (Shard dest : endpoints.writeCluster().shards()) {
                appliers.add(new ShardApplier(connector, dest, endpoints.task().taskId(), endpoints.direction(), sourceShard));
            }
            ChangeRouter router = new ChangeRouter(endpoints.readCluster(), sourceShard, endpoints.writeCluster(), appliers,
                    copySnapshots);
            Progress durable = router.durable();
            appliedLsn = durable.endLsn();
            lastCommitEpochMs = durable.commitEpochMs();
            refreshCurrentLsn(sql);
            catchUp(shard, sql, router);
            if (!stopRequested) {
                try (StreamConnection repl = connector.openReplicationStream(shard)) {
                    stream(repl, sql, router);
                }
            }
        } catch (Throwable e) {
            if (!stopRequested) {
                failure = e;
                log.error("{} failed: {}", endpoints.describe(sourceShard), e.toString());
            }
        } finally {
            appliers.forEach(ShardApplier::close);
            running = false;
        }
    }

    /** Tells the source that everything before a position is committed on every destination shard. */
    @FunctionalInterface
    private interface SlotAck {
        void confirmed(Lsn applied) throws SQLException;
    }

    /**
     * A backlog larger than {@link ReplicationSettings#catchUpBacklogBytes()} (a stream resuming after
     * the copy or after downtime) is read ahead through SQL decoding ({@link BacklogReader}) and applied
     * as the stream would; the task's slot is advanced only past what every destination shard has
     * committed. Streaming takes over once the backlog is small or a read finds nothing more to commit.
     * A negative threshold turns this off.
     */
    private void catchUp(Shard shard, Connection sql, ChangeRouter router) throws SQLException, InterruptedException {
        if (settings.catchUpBacklogBytes() < 0) {
            return;
        }
        String slot = endpoints.slotName(sourceShard);
        long backlog = SlotControl.backlog(sql, slot);
        if (backlog <= settings.catchUpBacklogBytes()) {
            return;   // also no slot (-1): the stream's start says so
        }
        log.info("{}: {} MB of WAL waiting in slot {}; reading it through SQL decoding before streaming",
                endpoints.describe(sourceShard), backlog >> 20, slot);
        long started = System.nanoTime();
        long messages = 0;
        long lastLsnQueryNs = System.nanoTime();
        SlotAck ack = lsn -> { };   // the slot is advanced below, in steps: each advance decodes up to its target
        Lsn advanced = appliedLsn;
        long waitedNs = 0;   // the applier waiting for the reader: > 0 means decoding, not applying, sets the pace
        long flushNsBefore = stats.flushNsTotal;
        try (BacklogReader reader = new BacklogReader(connector.open(shard), slot, endpoints.publication(),
                settings.catchUpBacklogBytes(), settings.catchUpChunkMessages(),
                "pgreshard-catchup-" + endpoints.direction().name().toLowerCase() + "-" + sourceShard)) {
            while (!stopRequested) {
                long waitStart = System.nanoTime();
                BacklogReader.Batch batch = reader.next(100);
                waitedNs += System.nanoTime() - waitStart;
                if (batch == null) {
                    continue;
                }
                if (batch.failure() instanceof SQLException e && "53400".equals(e.getSQLState()) && messages == 0) {
                    // no free slot for the copy (max_replication_slots): the walsender reads it all, as before
                    log.warn("{}: cannot copy slot {} to read its backlog through SQL decoding ({}); streaming it instead. "
                            + "One more free replication slot on the source makes catching up faster",
                            endpoints.describe(sourceShard), slot, e.getMessage());
                    break;
                }
                if (batch.failure() instanceof SQLException e) {
                    throw explainSlotFailure(e);
                }
                if (batch.failure() != null) {
                    throw new ReplicationException(endpoints.describe(sourceShard) + ": reading the backlog: "
                            + batch.failure(), batch.failure());
                }
                if (batch.end()) {
                    flushAndConfirm(ack, router, true);
                    // everything written when the last read began is applied (a stream tells the same by a quiet gap)
                    caughtUp = batch.toEnd();
                    break;
                }
                for (byte[] m : batch.messages()) {
                    apply(ByteBuffer.wrap(m), router, ack);
                }
                messages += batch.messages().size();
                catchUpMessages = messages;
                if (appliedLsn.bytesAfter(advanced) > settings.catchUpBacklogBytes()) {
                    SlotControl.advance(sql, slot, appliedLsn);
                    advanced = appliedLsn;
                }
                if (System.nanoTime() - lastLsnQueryNs > settings.statusIntervalMs() * 1_000_000L) {
                    refreshCurrentLsn(sql);
                    lastLsnQueryNs = System.nanoTime();
                }
            }
            settle(ack, router);
            if (appliedLsn.isValid()) {
                SlotControl.advance(sql, slot, appliedLsn);
            }
            refreshCurrentLsn(sql);
        }
        log.info("{}: applied {} messages read through SQL decoding in {} ms (waiting for the reader {} ms, "
                        + "for destination commits {} ms); streaming the rest", endpoints.describe(sourceShard), messages,
                (System.nanoTime() - started) / 1_000_000, waitedNs / 1_000_000, (stats.flushNsTotal - flushNsBefore) / 1_000_000);
    }

    /** Hands one message to the router and starts committing the batch when it is full. */
    private void apply(ByteBuffer msg, ChangeRouter router, SlotAck ack) throws SQLException {
        caughtUp = false;
        PgOutputMessage m = decoder.decode(msg);
        router.handle(m);
        if (!router.inTransaction() && router.pendingTransactions() > 0) {
            if (router.pendingTransactions() == 1) {
                batchStartedNs = System.nanoTime();
            }
            if (router.takeFlushRequest()
                    || router.pendingTransactions() >= settings.maxBatchTransactions()
                    || router.pendingChanges() >= settings.maxBatchChanges()
                    || System.nanoTime() - batchStartedNs >= settings.maxBatchDelayMs() * 1_000_000L) {
                flushAndConfirm(ack, router, false);
                stats.log(router);
            }
        }
        if (router.committing() && router.commitsDone()) {
            confirm(ack, router, router.awaitCommits());
        }
    }

    /** A failure to read the slot, with what the slot's state means for the operator. */
    private SQLException explainSlotFailure(SQLException e) {
        String why = switch (String.valueOf(e.getSQLState())) {
            case "42704" -> "replication slot " + endpoints.slotName(sourceShard) + " does not exist: it was never "
                    + "created (createSlots) or the task's slots were dropped (stopped task)";
            case "55006" -> "replication slot " + endpoints.slotName(sourceShard) + " is in use by another process "
                    + "(a previous worker that is still shutting down?); retrying later will succeed once it is gone";
            default -> e.getMessage();
        };
        return new SQLException(endpoints.describe(sourceShard) + ": " + why, e.getSQLState(), e);
    }

    private void stream(StreamConnection repl, Connection sql, ChangeRouter router)
            throws SQLException, InterruptedException {
        PGReplicationStream stream;
        try {
            stream = repl.connection().unwrap(PGConnection.class).getReplicationAPI().replicationStream().logical()
                    .withSlotName(endpoints.slotName(sourceShard))
                    .withSlotOption("proto_version", "1")
                    .withSlotOption("publication_names", Identifiers.quote(endpoints.publication()))
                    .withSlotOption("messages", "true")
                    .withStatusInterval((int) settings.statusIntervalMs(), TimeUnit.MILLISECONDS)
                    .start();
        } catch (SQLException e) {
            throw explainSlotFailure(e);
        }
        log.info("{}: streaming slot {} (publication {}), destination progress {}", endpoints.describe(sourceShard),
                endpoints.slotName(sourceShard), endpoints.publication(), appliedLsn);
        SlotAck ack = lsn -> {
            LogSequenceNumber l = LogSequenceNumber.valueOf(lsn.value());
            stream.setFlushedLSN(l);
            stream.setAppliedLSN(l);
            stream.forceUpdateStatus();
        };
        long lastMessageNs = System.nanoTime();
        long lastLsnQueryNs = System.nanoTime();
        while (!stopRequested) {
            long readStart = System.nanoTime();
            ByteBuffer msg = stream.readPending();
            long readNs = System.nanoTime() - readStart;
            stats.readNs += readNs;
            if (msg == null) {
                stats.emptyReads++;
                // a short gap is the walsender still decoding; a longer one means the stream caught up
                boolean quiet = System.nanoTime() - lastMessageNs >= settings.idleFlushMs() * 1_000_000L;
                if (!router.inTransaction() && quiet) {
                    if (router.pendingTransactions() > 0 || router.committing()) {
                        flushAndConfirm(ack, router, true);
                    } else {
                        idleConfirm(stream);
                    }
                    caughtUp = true;
                }
                if (System.nanoTime() - lastLsnQueryNs > settings.statusIntervalMs() * 1_000_000L) {
                    refreshCurrentLsn(sql);
                    lastLsnQueryNs = System.nanoTime();
                }
                Thread.sleep(settings.idleSleepMs());
                stats.log(router);
                continue;
            }
            lastMessageNs = System.nanoTime();
            apply(msg, router, ack);
            if (System.nanoTime() - lastLsnQueryNs > settings.statusIntervalMs() * 1_000_000L) {
                refreshCurrentLsn(sql);
                lastLsnQueryNs = System.nanoTime();
            }
            if (readNs >= WAITED_READ_NS && repl.socketDrained()) {
                // This read waited for the walsender and nothing more has arrived: it is behind us, and each
                // message it sends would wake this thread again (a wake-up costs the sending walsender too).
                // A short pause lets it write a run of messages meanwhile, read afterwards without waiting.
                stats.caughtUpPauses++;
                Thread.sleep(CAUGHT_UP_PAUSE_MS);
            }
        }
        settle(ack, router);
    }

    /**
     * At the end of a read (a stop, the end of the catch-up): what is complete is committed and confirmed; a source
     * transaction left half read (only a stop does that) is rolled back, its rest comes again next run.
     */
    private void settle(SlotAck ack, ChangeRouter router) throws SQLException, InterruptedException {
        if (!router.inTransaction()) {
            flushAndConfirm(ack, router, true);
        } else {
            confirm(ack, router, router.awaitCommits());
            router.rollback();
        }
    }

    /**
     * Starts committing the batch on every destination shard (waiting first for the batch before it)
     * and, with {@code wait}, waits for it too. Each time a batch is committed everywhere, the slot is
     * confirmed up to the least durable position over the destination shards.
     */
    private void flushAndConfirm(SlotAck ack, ChangeRouter router, boolean wait) throws SQLException {
        long flushStart = System.nanoTime();
        confirm(ack, router, router.flushAsync());
        if (wait) {
            confirm(ack, router, router.awaitCommits());
        }
        stats.flushed(System.nanoTime() - flushStart);
    }

    /** Everything up to {@code durable} is committed on every destination shard: the slot may forget it. */
    private void confirm(SlotAck ack, ChangeRouter router, Progress durable) throws SQLException {
        changesApplied = router.changesApplied();
        if (durable.endLsn().isAfter(appliedLsn)) {
            appliedLsn = durable.endLsn();
            lastCommitEpochMs = durable.commitEpochMs();
            ack.confirmed(appliedLsn);
        }
    }

    /**
     * Between transactions with nothing pending, every change the server sent up to its last reported
     * position is applied; confirming it keeps the slot (and the lag in bytes) from trailing behind
     * WAL that carries no change for this stream.
     */
    private void idleConfirm(PGReplicationStream stream) throws SQLException {
        Lsn received = Lsn.of(stream.getLastReceiveLSN().asLong());
        if (received.isAfter(appliedLsn)) {
            appliedLsn = received;
            LogSequenceNumber lsn = LogSequenceNumber.valueOf(received.value());
            stream.setFlushedLSN(lsn);
            stream.setAppliedLSN(lsn);
        }
    }

    private void refreshCurrentLsn(Connection sql) throws SQLException {
        try (Statement s = sql.createStatement(); ResultSet rs = s.executeQuery("SELECT pg_current_wal_lsn()::text")) {
            rs.next();
            currentLsn = Lsn.parse(rs.getString(1));
        }
    }
}
