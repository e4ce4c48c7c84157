package dev.pgreshard.proxy.sharded;

import dev.pgreshard.proxy.protocol.BackendMessages;
import dev.pgreshard.proxy.protocol.PgFrame;
import dev.pgreshard.proxy.protocol.ServerMessages;
import dev.pgreshard.proxy.sharded.merge.RowMessages;
import dev.pgreshard.proxy.session.ClientSession;
import io.netty.buffer.ByteBufAllocator;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Answers the client for an INSERT whose rows the proxy placed on shards
 * ({@link dev.pgreshard.proxy.sharded.plan.KeylessInsert}) as one database would have: the framing the
 * client's messages call for ({@link MergedReadRequest}: ParseComplete, the statement's description,
 * BindComplete, the portal's RowDescription), the RETURNING rows in the order of the client's VALUES
 * list (a shard returns its rows in the order it was sent them), and one CommandComplete {@code INSERT 0 n}.
 * <p>
 * Each target shard was sent Parse/Bind/Describe portal/Execute of its statement (or a Query). Descriptions
 * come from shard 0, as for every other statement the proxy answers: a RowDescription names columns by
 * table OID and attribute number, which drivers look up in the catalog (PgJDBC's "bigserial" type name),
 * and catalog queries are answered by shard 0. So shard 0 is also sent Parse/Describe of the client's
 * statement when the client described it, or when shard 0 holds none of the rows but the client needs the
 * RETURNING columns' description (then its table OIDs replace the target shard's).
 * <p>
 * An error of any shard is the answer (the first one), and PostgreSQL sends no RETURNING row before an error.
 */
final class SplitInsertAnswer implements ResponseSink {
    private final int[] targets;
    private final int participants;
    /** Shard 0 first answers a Parse/Describe of the client's statement (three messages: '1', 't', 'T'/'n'). */
    private final boolean describedOnShard0;
    private final Map<Integer, List<Integer>> rowsOf;
    private final int rowCount;
    private final MergedReadRequest request;
    private final ClientSession client;
    private final Consumer<Boolean> onDone;
    private final Map<Integer, List<PgFrame>> answers = new HashMap<>();
    private final List<PgFrame> statementDescription = new ArrayList<>();
    private int finished;
    private int firstErrorShard = -1;

    SplitInsertAnswer(int[] targets, boolean describedOnShard0, Map<Integer, List<Integer>> rowsOf, int rowCount,
                      MergedReadRequest request, ClientSession client, Consumer<Boolean> onDone) {
        this.targets = targets;
        this.describedOnShard0 = describedOnShard0;
        this.rowsOf = rowsOf;
        this.rowCount = rowCount;
        this.request = request;
        this.client = client;
        this.onDone = onDone;
        for (int s : targets) {
            answers.put(s, new ArrayList<>());
        }
        if (describedOnShard0) {
            answers.putIfAbsent(0, new ArrayList<>()); // shard 0 answers the Describe, as a request of its own if it holds no rows
        }
        this.participants = answers.size();
    }

    @Override
    public void onMessage(int shard, PgFrame frame) {
        char t = frame.typeChar();
        if (t == 'Z') {
            frame.release();
            if (++finished == participants) {
                emit();
                onDone.accept(firstErrorShard >= 0);
            }
            return;
        }
        if (t == 'E' && firstErrorShard < 0) {
            firstErrorShard = shard;
        }
        if (shard == 0 && describedOnShard0 && statementDescription.size() < 3 && t != 'E') {
            statementDescription.add(frame); // ParseComplete, ParameterDescription, RowDescription/NoData
            return;
        }
        answers.get(shard).add(frame);
    }

    private void emit() {
        try {
            if (firstErrorShard >= 0) {
                emitError(answers.get(firstErrorShard));
            } else {
                emitAnswer();
            }
        } finally {
            statementDescription.forEach(PgFrame::release);
            answers.values().forEach(a -> a.forEach(PgFrame::release));
        }
    }

    private void emitError(List<PgFrame> answer) {
        boolean parsed = false;
        for (PgFrame f : answer) {
            char t = f.typeChar();
            if (t == '1') {
                parsed = true;
            } else if (t == 'E') {
                if (parsed && request.parse()) {
                    client.write(BackendMessages.empty(alloc(), '1'));
                }
                client.write(f.frame().retainedDuplicate());
                return;
            } else if (t == 'N') {
                client.write(f.frame().retainedDuplicate());
            }
        }
    }

    private void emitAnswer() {
        if (request.parse()) {
            client.write(BackendMessages.empty(alloc(), '1'));
        }
        if (request.describeStatement()) {
            statementDescription.stream().filter(f -> f.typeChar() != '1').forEach(f -> client.write(f.frame().retainedDuplicate()));
        }
        if (request.bind()) {
            client.write(BackendMessages.empty(alloc(), '2'));
        }
        List<PgFrame> lead = answers.get(targets[0]);
        if (request.simple() || request.describePortal()) {
            for (PgFrame f : lead) {
                if (f.typeChar() == 'T') {
                    client.write(targets[0] == 0 ? f.frame().retainedDuplicate() : describedByShard0(f));
                } else if (f.typeChar() == 'n') {
                    client.write(f.frame().retainedDuplicate());
                }
            }
        }
        for (int s : answers.keySet()) {
            answers.get(s).stream().filter(f -> f.typeChar() == 'N').forEach(f -> client.write(f.frame().retainedDuplicate()));
        }
        writeRows();
        long total = 0;
        PgFrame complete = null;
        for (int s : targets) {
            for (PgFrame f : answers.get(s)) {
                if (f.typeChar() == 'C') {
                    total += ServerMessages.commandCount(f);
                    complete = f;
                }
            }
        }
        String tag = complete == null ? "INSERT 0 " + total
                : ServerMessages.addToCount(ServerMessages.commandTag(complete), total - ServerMessages.commandCount(complete));
        client.write(BackendMessages.commandComplete(alloc(), tag));
    }

    /** The target shard's RowDescription (its result formats) naming shard 0's table OIDs and attributes. */
    private io.netty.buffer.ByteBuf describedByShard0(PgFrame portal) {
        PgFrame statement = statementDescription.size() == 3 ? statementDescription.get(2) : null;
        if (statement == null || statement.typeChar() != 'T') {
            return portal.frame().retainedDuplicate();
        }
        List<BackendMessages.Field> mine = RowMessages.fields(portal.frame());
        List<BackendMessages.Field> shard0 = RowMessages.fields(statement.frame());
        if (mine.size() != shard0.size()) {
            return portal.frame().retainedDuplicate();
        }
        List<BackendMessages.Field> out = new ArrayList<>(mine.size());
        for (int i = 0; i < mine.size(); i++) {
            BackendMessages.Field f = mine.get(i);
            BackendMessages.Field z = shard0.get(i);
            out.add(new BackendMessages.Field(f.name(), z.tableOid(), z.attnum(), f.typeOid(), f.typlen(), f.typmod(), f.format()));
        }
        return BackendMessages.rowDescription(alloc(), out);
    }

    /** The RETURNING rows, each at its place in the client's VALUES list. */
    private void writeRows() {
        if (targets.length == 1) {
            answers.get(targets[0]).stream().filter(f -> f.typeChar() == 'D')
                    .forEach(f -> client.write(f.frame().retainedDuplicate()));
            return;
        }
        PgFrame[] ordered = new PgFrame[rowCount];
        for (int s : targets) {
            List<Integer> positions = rowsOf.get(s);
            int k = 0;
            for (PgFrame f : answers.get(s)) {
                if (f.typeChar() == 'D' && k < positions.size()) {
                    ordered[positions.get(k++)] = f;
                }
            }
        }
        for (PgFrame f : ordered) {
            if (f != null) {
                client.write(f.frame().retainedDuplicate());
            }
        }
    }

    private ByteBufAllocator alloc() {
        return client.channel().alloc();
    }
}
