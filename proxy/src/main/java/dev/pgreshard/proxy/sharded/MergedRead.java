package dev.pgreshard.proxy.sharded;

import dev.pgreshard.proxy.protocol.BackendMessages;
import dev.pgreshard.proxy.protocol.FrontendMessages;
import dev.pgreshard.proxy.protocol.PgFrame;
import dev.pgreshard.proxy.protocol.SqlState;
import dev.pgreshard.proxy.sharded.merge.PgArrays;
import dev.pgreshard.proxy.sharded.merge.RowMessages;
import dev.pgreshard.proxy.sharded.plan.ReadPlan;
import dev.pgreshard.proxy.session.ClientSession;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import java.util.function.IntFunction;

/**
 * Runs a read planned across shards ({@link ReadPlan} FINAL or STREAM) and answers the client as one
 * database would. FINAL: every shard's rows of the shards' statement are collected (binary), then the
 * lead shard runs the final statement over them as arrays and its answer goes to the client, without
 * the helper columns. STREAM: see {@link StreamedRows}. An error of any shard is the answer (the first
 * one); the unit ends when every shard sent ReadyForQuery.
 */
final class MergedRead implements ResponseSink {
    private final ReadPlan plan;
    private final int[] shards;
    private final int lead;
    private final MergedReadRequest request;
    private final ClientSession client;
    private final IntFunction<ShardLink> links;
    private final Consumer<Boolean> onDone;
    private final long maxBuffered;
    /** Messages of the lead's Describe of the client's statement still to come (ParseComplete, ParameterDescription, T/n). */
    private int describePrefix;
    private final List<PgFrame> describeAnswer = new ArrayList<>();
    private boolean preambleDone;
    private boolean error;
    private int finished;
    private boolean finalPhase;
    private boolean positionsChecked;
    private static final String INVALID_COLUMN_REFERENCE = "42P10";
    // FINAL: the shards' rows, per column
    private RowMessages.Shape shape;
    private List<BackendMessages.Field> shardFields;
    private List<List<byte[]>> columns;
    private long buffered;
    // STREAM
    private StreamedRows stream;

    MergedRead(ReadPlan plan, int[] shards, MergedReadRequest request, ClientSession client, IntFunction<ShardLink> links,
               Consumer<Boolean> onDone) {
        this.plan = plan;
        this.shards = shards;
        this.lead = shards[0];
        this.request = request;
        this.client = client;
        this.links = links;
        this.onDone = onDone;
        this.maxBuffered = client.proxy().options().maxFanOutBytes();
    }

    /** Sends the shards' statement to every shard (the caller has begun the transaction on each). */
    void start() {
        short[] formats = plan.kind() == ReadPlan.Kind.FINAL ? new short[] {1} : streamFormats();
        if (plan.kind() == ReadPlan.Kind.STREAM) {
            stream = new StreamedRows(plan, shards, request, client, links, this::writePreamble);
        }
        int[] types = request.shardParamTypes(plan.shardSql());
        for (int shard : shards) {
            List<ByteBuf> frames = new ArrayList<>();
            if (shard == lead && request.describeStatement()) {
                frames.add(FrontendMessages.parse(alloc(), request.sql(), request.declaredTypes()));
                frames.add(FrontendMessages.describe(alloc(), 'S'));
                describePrefix = 3;
            }
            frames.addAll(execute(plan.shardSql(), types, request.paramFormats(), request.params(), formats));
            links.apply(shard).send(this, frames.toArray(ByteBuf[]::new));
        }
    }

    @Override
    public void onMessage(int shard, PgFrame frame) {
        char t = frame.typeChar();
        if (t == 'Z') {
            frame.release();
            if (finalPhase) {
                end();
            } else if (++finished == shards.length) {
                allShardsDone();
            }
            return;
        }
        if (error) {
            frame.release();
            return;
        }
        if (t == 'E') {
            fail(frame.frame());
            return;
        }
        if (shard == lead && describePrefix > 0 && !finalPhase) {
            describePrefix--;
            if (t == '1') {
                frame.release();
            } else {
                describeAnswer.add(frame);
                if (t == 'n' || t == 'T') {
                    describePrefix = 0;
                }
            }
            return;
        }
        if (t == 'T' && !finalPhase && !positionsChecked) {
            positionsChecked = true;
            String wrongPosition = plan.positionError(RowMessages.shape(frame.frame()).width());
            if (wrongPosition != null) {
                frame.release();
                failWith(INVALID_COLUMN_REFERENCE, wrongPosition);
                return;
            }
        }
        if (finalPhase) {
            onFinalAnswer(frame);
        } else if (stream != null) {
            if (!stream.onMessage(shard, frame)) {
                error = true;
            }
        } else {
            collect(frame);
        }
    }

    private void fail(ByteBuf errorFrame) {
        error = true;
        if (stream != null) {
            stream.abort();
        }
        client.write(errorFrame);
    }

    private void failWith(String sqlState, String message) {
        error = true;
        if (stream != null) {
            stream.abort();
        }
        client.writeError(sqlState, message);
    }

    private void collect(PgFrame frame) {
        switch (frame.typeChar()) {
            case 'T' -> {
                if (shape == null) {
                    shape = RowMessages.shape(frame.frame());
                    shardFields = RowMessages.fields(frame.frame());
                    columns = new ArrayList<>();
                    for (int i = 0; i < shape.width(); i++) {
                        columns.add(new ArrayList<>());
                    }
                }
            }
            case 'D' -> {
                buffered += frame.frame().readableBytes();
                if (buffered > maxBuffered) {
                    columns = null;
                    failWith("54000", "the rows this statement needs from the shards to compute its answer exceed "
                            + maxBuffered + " bytes, which the proxy will not hold in memory; narrow it with the "
                            + "shard key or a smaller LIMIT, or group on fewer values");
                } else {
                    byte[][] values = RowMessages.values(frame.frame());
                    for (int i = 0; i < values.length; i++) {
                        columns.get(i).add(values[i]);
                    }
                }
            }
            default -> {
                // ParseComplete, BindComplete, CommandComplete, notices: nothing for the client yet
            }
        }
        frame.release();
    }

    private void allShardsDone() {
        if (error) {
            end();
            return;
        }
        if (stream != null) {
            stream.finish();
            writePreamble();
            client.write(BackendMessages.commandComplete(alloc(), "SELECT " + stream.emitted()));
            end();
            return;
        }
        runFinal();
    }

    /** FINAL: sends the final statement, over the collected rows, to the lead shard. */
    private void runFinal() {
        int width = shape.width();
        String[] collations = new String[width];
        int valueColumns = width - plan.finalQuery().collationTail();
        for (int i = valueColumns; i < width; i++) {
            for (byte[] v : columns.get(i)) {
                if (v != null) {
                    collations[i] = RowMessages.text(v);
                    break;
                }
            }
        }
        String sql;
        try {
            sql = plan.finalQuery().render(shape.names(), shape.types(), collations, plan.trailing());
        } catch (IllegalArgumentException e) {
            failWith(SqlState.FEATURE_NOT_SUPPORTED, e.getMessage());
            end();
            return;
        }
        byte[][] arrays = new byte[valueColumns][];
        for (int i = 0; i < valueColumns; i++) {
            arrays[i] = PgArrays.binary(shape.types()[i], columns.get(i));
        }
        columns = null;
        finalPhase = true;
        short[] formats = withExtraColumns(request.resultFormats(), plan.finalQuery().outputStrip());
        links.apply(lead).send(this, execute(sql, new int[valueColumns], new short[] {1}, arrays, formats).toArray(ByteBuf[]::new));
    }

    private void onFinalAnswer(PgFrame frame) {
        int strip = plan.finalQuery().outputStrip();
        switch (frame.typeChar()) {
            case 'T' -> {
                writePreamble();
                keepWidth = RowMessages.shape(frame.frame()).width() - strip;
                if (request.describePortal()) {
                    client.write(BackendMessages.rowDescription(alloc(), clientFields(frame)));
                }
                frame.release();
            }
            case 'D' -> {
                if (strip == 0) {
                    client.write(frame.frame());
                } else {
                    client.write(BackendMessages.dataRowPrefix(alloc(), frame.frame(), keepWidth));
                    frame.release();
                }
            }
            case 'C' -> {
                writePreamble();
                client.write(frame.frame());
            }
            default -> frame.release();
        }
    }

    private int keepWidth;

    /**
     * The final statement's columns as the client sees them: its names and formats, and for a column that
     * shows a shard value unchanged, the shards' type modifier and origin (numeric(12,2) stays numeric(12,2)).
     */
    private List<BackendMessages.Field> clientFields(PgFrame finalDescription) {
        List<BackendMessages.Field> computed = RowMessages.fields(finalDescription.frame());
        List<BackendMessages.Field> out = new ArrayList<>();
        for (int j = 0; j < keepWidth; j++) {
            BackendMessages.Field f = computed.get(j);
            int source = plan.finalQuery().shardColumnOf(j, shardFields.size(), plan.trailing());
            if (source >= 0 && shardFields.get(source).typeOid() == f.typeOid()) {
                BackendMessages.Field s = shardFields.get(source);
                String name = plan.finalQuery().namedByShards(j) ? s.name() : f.name();
                f = new BackendMessages.Field(name, s.tableOid(), s.attnum(), f.typeOid(), f.typlen(), s.typmod(), f.format());
            }
            out.add(f);
        }
        return out;
    }

    /** What the client's Parse, Describe of the statement and Bind are owed, before the first row or the end. */
    private void writePreamble() {
        if (preambleDone) {
            return;
        }
        preambleDone = true;
        if (request.parse()) {
            client.write(BackendMessages.empty(alloc(), '1'));
        }
        describeAnswer.forEach(f -> client.write(f.frame()));
        describeAnswer.clear();
        if (request.bind()) {
            client.write(BackendMessages.empty(alloc(), '2'));
        }
    }

    private void end() {
        describeAnswer.forEach(PgFrame::release);
        describeAnswer.clear();
        if (stream != null) {
            stream.release();
        }
        onDone.accept(error);
    }

    private ByteBufAllocator alloc() {
        return client.channel().alloc();
    }

    /** Parse, Bind, Describe of the portal, Execute and Sync of one statement, unnamed. */
    private List<ByteBuf> execute(String sql, int[] paramTypes, short[] paramFormats, byte[][] params, short[] resultFormats) {
        return List.of(FrontendMessages.parse(alloc(), sql, paramTypes),
                FrontendMessages.bind(alloc(), paramFormats, params, resultFormats),
                FrontendMessages.describe(alloc(), 'P'), FrontendMessages.executeAll(alloc()), FrontendMessages.sync(alloc()));
    }

    /**
     * STREAM: the client's formats for its columns; sort keys in binary (exact to decode) when the width of the
     * client's columns is known, their collation names as text.
     */
    private short[] streamFormats() {
        short[] client = request.resultFormats();
        int keys = plan.stream().keys().isEmpty() ? 0 : (plan.trailing() - 1) / 2;
        int width = client.length > 1 ? client.length : plan.stream().clientColumns();
        if (width < 0) {
            return client; // one code for every column, sort keys included
        }
        short[] out = new short[width + plan.trailing()];
        for (int i = 0; i < width; i++) {
            out[i] = client.length > 1 ? client[i] : client.length == 1 ? client[0] : 0;
        }
        for (int i = 0; i < keys; i++) {
            out[width + i] = 1;
        }
        return out;
    }

    /**
     * Result formats for a statement whose rows end with {@code extra} columns the client does not see:
     * the client's single or absent code applies to them too; a per-column list gets text for them.
     */
    static short[] withExtraColumns(short[] client, int extra) {
        if (client.length <= 1 || extra == 0) {
            return client;
        }
        return java.util.Arrays.copyOf(client, client.length + extra);
    }
}
