package dev.pgreshard.proxy.sharded;

import dev.pgreshard.proxy.protocol.BackendMessages;
import dev.pgreshard.proxy.protocol.PgFrame;
import dev.pgreshard.proxy.protocol.ServerMessages;
import dev.pgreshard.proxy.session.ClientSession;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * Merges the answers of several shards to one statement while they arrive, so a large fan-out read
 * streams instead of being held: the lead shard's framing (ParseComplete, RowDescription,
 * CopyOutResponse, ...) goes out first; every shard's rows follow as they come (rows that arrive before
 * the lead's framing wait for it); CopyDone and one CommandComplete, with the counts summed (or the
 * lead's, for omnisharded writes), go out when every shard has finished. The first error from any shard
 * goes out at once and ends the answer; later messages are dropped.
 */
final class StreamingMerger implements ResponseSink {
    private final int[] shards;
    private final int lead;
    private final boolean sumCounts;
    private final ClientSession client;
    private final Consumer<Boolean> onDone;
    private final List<PgFrame> early = new ArrayList<>();
    private boolean headerDone;
    private boolean error;
    private int finished;
    private PgFrame leadTerminator;
    private PgFrame copyDone;
    private long otherCounts;

    StreamingMerger(int[] shards, boolean sumCounts, ClientSession client, Consumer<Boolean> onDone) {
        this.shards = shards;
        this.lead = shards[0];
        this.sumCounts = sumCounts;
        this.client = client;
        this.onDone = onDone;
    }

    @Override
    public void onMessage(int shard, PgFrame frame) {
        char t = frame.typeChar();
        if (t == 'Z') {
            frame.release();
            if (++finished == shards.length) {
                finish();
            }
            return;
        }
        if (error) {
            frame.release();
            return;
        }
        if (t == 'E') {
            error = true;
            releaseHeld();
            client.write(frame.frame());
            return;
        }
        boolean data = t == 'D' || t == 'd';
        boolean terminator = t == 'C' || t == 'I' || t == 's';
        if (shard == lead && !headerDone && (data || terminator || t == 'c')) {
            headerDone = true;
            early.forEach(f -> client.write(f.frame()));
            early.clear();
        }
        if (data) {
            if (shard != lead && !sumCounts) {
                frame.release(); // omnisharded: every shard returns the same rows
            } else if (headerDone) {
                client.write(frame.frame());
            } else {
                early.add(frame);
            }
        } else if (terminator) {
            if (shard == lead) {
                leadTerminator = frame;
            } else {
                if (t == 'C') {
                    otherCounts += ServerMessages.commandCount(frame);
                }
                frame.release();
            }
        } else if (t == 'c') {
            if (shard == lead) {
                copyDone = frame;
            } else {
                frame.release();
            }
        } else if (shard == lead) {
            client.write(frame.frame()); // framing before the rows: ParseComplete, RowDescription, ...
        } else {
            frame.release();
        }
    }

    private void finish() {
        if (!error) {
            early.forEach(f -> client.write(f.frame()));
            early.clear();
            if (copyDone != null) {
                client.write(copyDone.frame());
                copyDone = null;
            }
            if (leadTerminator != null) {
                if (leadTerminator.typeChar() == 'C' && sumCounts) {
                    String tag = ServerMessages.commandTag(leadTerminator);
                    leadTerminator.release();
                    String summed = ServerMessages.addToCount(tag, otherCounts);
                    client.write(BackendMessages.commandComplete(client.channel().alloc(), summed));
                } else {
                    client.write(leadTerminator.frame());
                }
                leadTerminator = null;
            }
        }
        onDone.accept(error);
    }

    private void releaseHeld() {
        early.forEach(PgFrame::release);
        early.clear();
        if (leadTerminator != null) {
            leadTerminator.release();
            leadTerminator = null;
        }
        if (copyDone != null) {
            copyDone.release();
            copyDone = null;
        }
    }
}
