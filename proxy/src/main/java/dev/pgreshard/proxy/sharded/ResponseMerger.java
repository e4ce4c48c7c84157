package dev.pgreshard.proxy.sharded;

import dev.pgreshard.proxy.protocol.BackendMessages;
import dev.pgreshard.proxy.protocol.PgFrame;
import dev.pgreshard.proxy.protocol.ServerMessages;
import dev.pgreshard.proxy.session.ClientSession;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Turns the answers of several shards to the same request into one answer for the client. With one
 * shard the answer streams through (minus its ReadyForQuery, which the session writes itself). With
 * several, answers are collected and merged per statement: the first shard's RowDescription and other
 * framing, the rows of every shard, and one CommandComplete whose count is the sum (or, for writes to
 * omnisharded tables, the first shard's, as every shard holds the same rows). An error from any shard
 * wins: the answer of the shard that failed first goes to the client as it is. Answers are held in
 * memory until every shard has finished (a limit on very large fan-out results).
 */
final class ResponseMerger implements ResponseSink {
    private final int[] shards;
    private final boolean sumCounts;
    private final ClientSession client;
    private final Runnable onCopyIn;
    private final Consumer<Boolean> onDone;
    private Runnable onCopyAbort;
    private final Map<Integer, List<PgFrame>> answers = new HashMap<>();
    private final boolean streaming;
    private int finished;
    private int copyReady;
    private boolean error;
    private int firstErrorShard = -1;
    /** Bytes held for a fan-out answer; beyond {@link #maxBuffered} the answer is dropped and replaced by an error. */
    private long buffered;
    private boolean overflow;
    private final long maxBuffered;

    ResponseMerger(int[] shards, boolean sumCounts, ClientSession client, Runnable onCopyIn, Consumer<Boolean> onDone) {
        this.shards = shards;
        this.sumCounts = sumCounts;
        this.client = client;
        this.onCopyIn = onCopyIn;
        this.onDone = onDone;
        this.streaming = shards.length == 1;
        this.maxBuffered = client.proxy().options().maxFanOutBytes();
        for (int s : shards) {
            answers.put(s, new ArrayList<>());
        }
    }

    @Override
    public void onMessage(int shard, PgFrame frame) {
        switch (frame.typeChar()) {
            case 'G' -> {
                copyReady++;
                if (streaming) {
                    client.write(frame.frame());
                    onCopyIn.run();
                } else if (copyReady == shards.length) {
                    client.write(frame.frame());
                    onCopyIn.run();
                } else {
                    frame.release();
                }
                return;
            }
            case 'Z' -> {
                frame.release();
                finished++;
                if (onCopyAbort != null && copyReady < shards.length) {
                    // a shard refused the COPY before it began: end it on the shards already waiting for data
                    Runnable abort = onCopyAbort;
                    onCopyAbort = null;
                    abort.run();
                }
                if (finished == shards.length) {
                    if (!streaming) {
                        emitMerged();
                    }
                    onDone.accept(error || overflow);
                }
                return;
            }
            case 'E' -> {
                if (!error) {
                    firstErrorShard = shard; // the earliest error is the cause; later ones may be our own aborts
                }
                error = true;
            }
            default -> {
            }
        }
        if (streaming) {
            client.write(frame.frame());
        } else if (overflow) {
            frame.release();
        } else {
            buffered += frame.frame().readableBytes();
            answers.get(shard).add(frame);
            if (buffered > maxBuffered) {
                overflow = true;
                answers.values().forEach(a -> {
                    a.forEach(PgFrame::release);
                    a.clear();
                });
            }
        }
    }

    /** For a COPY FROM STDIN: what to do when a shard ends before every shard accepted the COPY. */
    void onCopyAbort(Runnable abort) {
        this.onCopyAbort = abort;
    }

    /** Shards that have not finished yet (for aborting a COPY on the others when one failed). */
    boolean finishedAll() {
        return finished == shards.length;
    }

    private void emitMerged() {
        if (overflow) {
            client.write(BackendMessages.error(client.channel().alloc(), "ERROR", "54000", "the answer of this statement "
                    + "from several shards exceeds " + maxBuffered + " bytes, which the proxy will not hold in memory; "
                    + "narrow it with the shard key, a LIMIT or a cursor, or read the shards directly"));
            return;
        }
        if (error) {
            for (int s : shards) {
                List<PgFrame> a = answers.get(s);
                if (s == firstErrorShard) {
                    a.forEach(f -> client.write(f.frame()));
                } else {
                    a.forEach(PgFrame::release);
                }
            }
            return;
        }
        List<List<List<PgFrame>>> segmented = new ArrayList<>();
        for (int s : shards) {
            segmented.add(segments(answers.get(s)));
        }
        List<List<PgFrame>> first = segmented.get(0);
        for (int i = 0; i < first.size(); i++) {
            List<PgFrame> seg = first.get(i);
            PgFrame terminator = isTerminator(seg.get(seg.size() - 1)) ? seg.get(seg.size() - 1) : null;
            PgFrame copyDone = null;
            for (PgFrame f : seg) {
                if (f == terminator || isData(f)) {
                    continue;
                }
                if (f.typeChar() == 'c') {
                    copyDone = f;
                } else {
                    client.write(f.frame());
                }
            }
            long total = 0;
            for (int k = 0; k < segmented.size(); k++) {
                if (i >= segmented.get(k).size()) {
                    continue;
                }
                for (PgFrame f : segmented.get(k).get(i)) {
                    if (isData(f) && (k == 0 || sumCounts)) {
                        client.write(f.frame());
                    } else if (k > 0) {
                        if (f.typeChar() == 'C') {
                            total += ServerMessages.commandCount(f);
                        }
                        f.release();
                    } else if (isData(f)) {
                        f.release();
                    }
                }
            }
            if (copyDone != null) {
                client.write(copyDone.frame());
            }
            if (terminator != null) {
                if (terminator.typeChar() == 'C' && sumCounts && segmented.size() > 1) {
                    String tag = ServerMessages.commandTag(terminator);
                    String summed = ServerMessages.addToCount(tag, total);
                    terminator.release();
                    client.write(BackendMessages.commandComplete(client.channel().alloc(), summed));
                } else {
                    client.write(terminator.frame());
                }
            }
        }
    }

    private static List<List<PgFrame>> segments(List<PgFrame> answer) {
        List<List<PgFrame>> out = new ArrayList<>();
        List<PgFrame> cur = new ArrayList<>();
        for (PgFrame f : answer) {
            cur.add(f);
            if (isTerminator(f)) {
                out.add(cur);
                cur = new ArrayList<>();
            }
        }
        if (!cur.isEmpty()) {
            out.add(cur);
        }
        return out;
    }

    private static boolean isTerminator(PgFrame f) {
        char t = f.typeChar();
        return t == 'C' || t == 'I' || t == 's';
    }

    private static boolean isData(PgFrame f) {
        return f.typeChar() == 'D' || f.typeChar() == 'd';
    }
}
