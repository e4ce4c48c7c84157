package dev.pgreshard.activities.copy;

import dev.pgreshard.activities.support.TaskLogContext;
import org.postgresql.copy.CopyOut;

import java.io.IOException;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.Semaphore;

/**
 * Reads a COPY OUT stream on a thread of its own and hands the chunks over through a queue bounded
 * by bytes, so that reading the source and writing the destination shards overlap, as the two
 * processes of a {@code psql | psql} pipe do. At most {@link #BUDGET} bytes wait in the queue (a
 * single row larger than that passes alone), so memory stays bounded whatever the table's size.
 * Rows arrive one CopyData message each; they are handed over in batches of about {@link #BATCH}
 * bytes, so the queue costs one hand-off per batch rather than one per row.
 */
final class ChunkPipe implements AutoCloseable {
    static final int BUDGET = 8 << 20;
    static final int BATCH = 256 << 10;
    private static final List<byte[]> END = List.of();
    private final BlockingQueue<List<byte[]>> queue = new LinkedBlockingQueue<>();
    private List<byte[]> current = List.of();
    private int position;
    private final Semaphore budget = new Semaphore(BUDGET);
    private final Thread thread;
    private volatile Throwable failure;
    private volatile boolean closed;

    ChunkPipe(CopyOut in, String name) {
        thread = new Thread(TaskLogContext.propagating(() -> pump(in)), name);
        thread.setDaemon(true);
        thread.start();
    }

    private void pump(CopyOut in) {
        try {
            List<byte[]> batch = new ArrayList<>();
            int batchBytes = 0;
            byte[] chunk;
            while (!closed && (chunk = in.readFromCopy()) != null) {
                batch.add(chunk);
                batchBytes += chunk.length;
                if (batchBytes >= BATCH) {
                    hand(batch, batchBytes);
                    batch = new ArrayList<>();
                    batchBytes = 0;
                }
            }
            if (!batch.isEmpty()) {
                hand(batch, batchBytes);
            }
        } catch (Throwable e) {
            failure = e;
        } finally {
            queue.offer(END);
        }
    }

    private void hand(List<byte[]> batch, int batchBytes) throws InterruptedException {
        budget.acquire(Math.min(batchBytes, BUDGET));
        queue.put(batch);
    }

    /** The next chunk, or null at the end of the stream; rethrows what the reading thread hit. */
    byte[] next() throws SQLException, IOException, InterruptedException {
        if (position < current.size()) {
            return current.get(position++);
        }
        if (!current.isEmpty()) {
            int bytes = 0;
            for (byte[] c : current) {
                bytes += c.length;
            }
            budget.release(Math.min(bytes, BUDGET));
        }
        List<byte[]> batch = queue.take();
        if (batch == END) {
            current = END;
            queue.offer(END);
            Throwable e = failure;
            if (e instanceof SQLException s) {
                throw s;
            }
            if (e instanceof IOException io) {
                throw io;
            }
            if (e != null) {
                throw new IOException("reading the COPY stream failed", e);
            }
            return null;
        }
        current = batch;
        position = 1;
        return batch.get(0);
    }

    /** Stops the reading thread once it returns from the socket (the caller aborts the connection on failure). */
    @Override
    public void close() {
        closed = true;
        budget.release(BUDGET);
        thread.interrupt();
    }
}
