package dev.pgreshard.activities.replication;

import dev.pgreshard.activities.support.TaskLogContext;
import dev.pgreshard.core.pg.Identifiers;
import dev.pgreshard.core.pg.Lsn;
import org.postgresql.PGStatement;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * Reads a slot's backlog ahead of the applier through PostgreSQL's SQL decoding functions instead of
 * a walsender: the same pgoutput messages, in the same order, at a fraction of the source's CPU.
 *
 * <p>Why: a walsender sends every decoded message on its own and tries to flush the socket after
 * each one (PostgreSQL's {@code WalSndWriteData}), about five system calls per source transaction
 * and a wake-up of the reader for most of them; the walsender, not the applier, bounded how fast a
 * backlog drained. {@code pg_logical_slot_peek_binary_changes} decodes into a tuplestore in the
 * backend and returns ordinary rows. Measured on a 200 000-transaction backlog
 * (docs/notes/2026-12-02-s9): walsender into /dev/null 7.8 s, one peek of the same backlog 1.2 s.
 *
 * <p>The reader works on a <em>temporary copy</em> of the slot, made by its own session
 * ({@code pg_copy_logical_replication_slot(…, temporary => true)}): it peeks a chunk, queues its
 * messages, and advances the copy past the chunk's last commit at once, so the next chunk decodes
 * while the applier still works on this one. The task's own slot never moves ahead of what is
 * durable: the applier advances it ({@link SlotControl#advance}) only to positions committed on every
 * destination shard. The copy disappears with the session (PostgreSQL drops temporary slots at
 * session end and on error), so a killed worker leaks nothing; a clean end drops it explicitly.
 */
final class BacklogReader implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(BacklogReader.class);
    /** Messages per queued batch, and batches queued ahead of the applier (≈ 2 chunks of small transactions). */
    private static final int BATCH_MESSAGES = 2000;
    private static final int QUEUED_BATCHES = 200;

    /**
     * What the applier takes: messages in order; or the end of the backlog ({@code end}, with
     * {@code toEnd} when the last read reached the end of the WAL written when it began); or the
     * reader's failure.
     */
    record Batch(List<byte[]> messages, boolean end, boolean toEnd, Throwable failure) {
        static Batch of(List<byte[]> messages) {
            return new Batch(messages, false, false, null);
        }
    }

    private final Connection connection;
    private final String slot;
    private final String copy;
    private final String publication;
    private final long backlogBytes;
    private final int chunkMessages;
    private final BlockingQueue<Batch> queue = new ArrayBlockingQueue<>(QUEUED_BATCHES);
    private final Thread thread;
    private volatile boolean closed;

    /**
     * Starts reading {@code slot} ahead, on {@code connection} (an ordinary connection to the slot's
     * server, closed with this reader), until the copy is within {@code backlogBytes} of the WAL's end
     * or a read ends before {@code chunkMessages} messages.
     */
    BacklogReader(Connection connection, String slot, String publication, long backlogBytes, int chunkMessages,
                  String threadName) throws SQLException {
        this.connection = connection;
        this.slot = slot;
        this.copy = copyName(slot);
        this.publication = publication;
        this.backlogBytes = backlogBytes;
        this.chunkMessages = chunkMessages;
        connection.setAutoCommit(false);   // a cursor: a chunk's rows arrive in fetches, not all at once
        this.thread = new Thread(TaskLogContext.propagating(this::run), threadName);
        thread.setDaemon(true);
        thread.start();
    }

    /** Unique (a killed predecessor's session may still hold its copy for a moment); not matching the task's slot names. */
    private static String copyName(String slot) {
        String name = "catchup_" + Integer.toHexString(ThreadLocalRandom.current().nextInt(1 << 24)) + "_" + slot;
        return name.length() <= 63 ? name : name.substring(0, 63);
    }

    /** The next batch, or null if none arrived within {@code timeoutMs}. */
    Batch next(long timeoutMs) throws InterruptedException {
        return queue.poll(timeoutMs, TimeUnit.MILLISECONDS);
    }

    private void run() {
        Batch last;
        try {
            execute("SELECT pg_copy_logical_replication_slot(?, ?, true)", slot, copy);
            last = readAhead();
        } catch (Throwable e) {
            last = new Batch(List.of(), false, false, e);
        }
        try {
            execute("SELECT pg_drop_replication_slot(?)", copy);
        } catch (SQLException e) {
            log.debug("dropping {}: {} (the server drops it when the session ends)", copy, e.toString());
        }
        if (last != null) {   // null: closed while reading, nobody takes it
            put(last);
        }
    }

    private Batch readAhead() throws SQLException {
        // A read's rows arrive only once it has decoded all of them: a small first read lets the applier start at
        // once, and each read doubles (up to chunkMessages), so the next read decodes while the applier works
        // through this one (decoding is several times faster than applying) in few reads: every read decodes
        // again from the copy's restart point, which moves only at the source's running-transactions records.
        int limit = Math.max(1, chunkMessages / 40);
        while (!closed) {
            long read = 0;
            Lsn lastCommitEnd = null;
            try (PreparedStatement ps = connection.prepareStatement(
                    "SELECT lsn, data FROM pg_logical_slot_peek_binary_changes(?, NULL, ?, 'proto_version', '1', "
                            + "'publication_names', ?, 'messages', 'true')")) {
                ps.unwrap(PGStatement.class).setPrepareThreshold(-1);   // bytea in binary: no hex to decode
                ps.setFetchSize(BATCH_MESSAGES);
                ps.setString(1, copy);
                ps.setInt(2, limit);
                ps.setString(3, Identifiers.quote(publication));
                try (ResultSet rs = ps.executeQuery()) {
                    List<byte[]> batch = new ArrayList<>(BATCH_MESSAGES);
                    while (rs.next()) {
                        byte[] data = rs.getBytes(2);
                        if (data.length > 0 && data[0] == 'C') {
                            // a commit's row carries the end of its commit record: past it, the transaction is read
                            lastCommitEnd = Lsn.parse(rs.getString(1));
                        }
                        batch.add(data);
                        read++;
                        if (batch.size() == BATCH_MESSAGES) {
                            if (!put(Batch.of(batch))) {
                                return null;
                            }
                            batch = new ArrayList<>(BATCH_MESSAGES);
                        }
                    }
                    if (!batch.isEmpty() && !put(Batch.of(batch))) {
                        return null;
                    }
                }
            } finally {
                connection.rollback();   // the peek's transaction read and wrote nothing
            }
            boolean toEnd = read < limit;
            limit = (int) Math.min(chunkMessages, 2L * limit);
            if (lastCommitEnd == null) {
                // nothing but WAL without changes for the publication, or messages outside transactions: the stream's
                return new Batch(List.of(), true, toEnd, null);
            }
            execute("SELECT pg_replication_slot_advance(?, ?::pg_lsn)", copy, lastCommitEnd.toString());
            if (toEnd || copyBacklog() <= backlogBytes) {
                return new Batch(List.of(), true, toEnd, null);
            }
        }
        return null;
    }

    /** Queues {@code batch} unless the reader is closed meanwhile; false then. */
    private boolean put(Batch batch) {
        try {
            while (!closed) {
                if (queue.offer(batch, 100, TimeUnit.MILLISECONDS)) {
                    return true;
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return false;
    }

    private long copyBacklog() throws SQLException {
        long bytes = SlotControl.backlog(connection, copy);
        connection.commit();
        return bytes;
    }

    private void execute(String sql, String... args) throws SQLException {
        try (PreparedStatement ps = connection.prepareStatement(sql)) {
            for (int i = 0; i < args.length; i++) {
                ps.setString(i + 1, args[i]);
            }
            ps.executeQuery().close();
            connection.commit();
        } catch (SQLException e) {
            connection.rollback();
            throw e;
        }
    }

    /**
     * Stops reading; returns once the reader's session is over (its copy of the slot gone with it).
     * A read still decoding is cut short by closing the connection.
     */
    @Override
    public void close() throws SQLException {
        closed = true;
        queue.clear();
        try {
            thread.join(2_000);
            if (thread.isAlive()) {
                connection.abort(Runnable::run);
                thread.join(5_000);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            connection.close();
        }
    }
}
