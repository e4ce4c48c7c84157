package dev.pgreshard.activities.copy;

import org.postgresql.copy.CopyOut;

import java.io.IOException;
import java.sql.SQLException;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.Semaphore;

/**
 * Reads a COPY OUT stream on a thread of its own and hands the chunks over through a queue bounded
 * by bytes, so that reading the source and writing the destination shards overlap, as the two
 * processes of a {@code psql | psql} pipe do. At most {@link #BUDGET} bytes wait in the queue (a
 * single row larger than that passes alone), so memory stays bounded whatever the table's size.
 */
final class ChunkPipe implements AutoCloseable {
    static final int BUDGET = 8 << 20;
    private static final byte[] END = new byte[0];
    private final BlockingQueue<byte[]> queue = new LinkedBlockingQueue<>();
    private final Semaphore budget = new Semaphore(BUDGET);
    private final Thread thread;
    private volatile Throwable failure;
    private volatile boolean closed;

    ChunkPipe(CopyOut in, String name) {
        thread = new Thread(() -> pump(in), name);
        thread.setDaemon(true);
        thread.start();
    }

    private void pump(CopyOut in) {
        try {
            byte[] chunk;
            while (!closed && (chunk = in.readFromCopy()) != null) {
                budget.acquire(Math.min(chunk.length, BUDGET));
                queue.put(chunk);
            }
        } catch (Throwable e) {
            failure = e;
        } finally {
            queue.offer(END);
        }
    }

    /** The next chunk, or null at the end of the stream; rethrows what the reading thread hit. */
    byte[] next() throws SQLException, IOException, InterruptedException {
        byte[] chunk = queue.take();
        if (chunk == END) {
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
        budget.release(Math.min(chunk.length, BUDGET));
        return chunk;
    }

    /** Stops the reading thread once it returns from the socket (the caller aborts the connection on failure). */
    @Override
    public void close() {
        closed = true;
        budget.release(BUDGET);
        thread.interrupt();
    }
}
