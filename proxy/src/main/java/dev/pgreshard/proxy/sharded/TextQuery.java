package dev.pgreshard.proxy.sharded;

import dev.pgreshard.proxy.protocol.PgFrame;
import dev.pgreshard.proxy.sharded.merge.RowMessages;

import java.util.ArrayList;
import java.util.List;
import java.util.function.BiConsumer;

/**
 * The answer to a simple Query the proxy sends on its own and needs the rows of (text format): the rows,
 * or the server's ErrorResponse (a retained frame the receiver must write or release).
 */
final class TextQuery implements ResponseSink {
    private final List<List<String>> rows = new ArrayList<>();
    private final BiConsumer<List<List<String>>, PgFrame> done;
    private PgFrame error;

    TextQuery(BiConsumer<List<List<String>>, PgFrame> done) {
        this.done = done;
    }

    @Override
    public void onMessage(int shard, PgFrame frame) {
        switch (frame.typeChar()) {
            case 'D' -> {
                List<String> row = new ArrayList<>();
                for (byte[] v : RowMessages.values(frame.frame())) {
                    row.add(v == null ? null : RowMessages.text(v));
                }
                rows.add(row);
                frame.release();
            }
            case 'E' -> {
                if (error == null) {
                    error = frame;
                } else {
                    frame.release();
                }
            }
            case 'Z' -> {
                frame.release();
                done.accept(rows, error);
            }
            default -> frame.release();
        }
    }
}
