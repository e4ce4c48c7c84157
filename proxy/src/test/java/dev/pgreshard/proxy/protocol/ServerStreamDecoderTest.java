package dev.pgreshard.proxy.protocol;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The relay split of a server's stream, fed in every possible pair of reads (split at every byte) and one
 * byte per read: every byte comes out once and in order, ReadyForQuery and ErrorResponse are counted and
 * never cut, a FATAL ErrorResponse comes on its own as a frame, and a switch from frames to relay takes
 * effect at the very next message.
 */
class ServerStreamDecoderTest {
    /** Messages of a pipelined answer: a row larger than one read, an error, two ReadyForQuery. */
    private static final List<byte[]> ANSWER = List.of(
            message('1', new byte[0]),                              // ParseComplete
            message('2', new byte[0]),                              // BindComplete
            message('D', new byte[300]),                            // a DataRow cut by most splits
            message('C', cstring("SELECT 1")),
            message('Z', new byte[] {'T'}),
            message('E', errorFields("ERROR", "42P01", "relation \"x\" does not exist")),
            message('Z', new byte[] {'E'}),
            message('N', errorFields("NOTICE", "00000", "hello")),
            message('C', cstring("ROLLBACK")),
            message('Z', new byte[] {'I'}));
    private static final byte[] FATAL = message('E', errorFields("FATAL", "57P01", "terminating connection"));

    @Test
    void relaysEveryByteOnceCountsReadyAndErrorsAtEverySplit() {
        byte[] stream = concat(ANSWER);
        for (int split = 0; split <= stream.length; split++) {
            Relayed r = relay(stream, split);
            assertArrayEquals(stream, r.bytes.toByteArray(), "split at " + split);
            assertEquals(3, r.ready, "split at " + split);
            assertEquals('I', r.lastStatus, "split at " + split);
            assertEquals(1, r.errors, "split at " + split);
            assertWholeWatchedMessages(stream, r.cuts, "split at " + split);
        }
        Relayed oneByOne = relay(stream, 1, 1);
        assertArrayEquals(stream, oneByOne.bytes.toByteArray());
        assertEquals(3, oneByOne.ready);
        assertWholeWatchedMessages(stream, oneByOne.cuts, "one byte per read");
    }

    @Test
    void fatalErrorComesAloneAsAFrameAfterEverythingBeforeIt() {
        byte[] before = concat(ANSWER);
        byte[] stream = concat(List.of(before, FATAL));
        for (int split = 0; split <= stream.length; split++) {
            Relayed r = relay(stream, split);
            assertArrayEquals(before, r.bytes.toByteArray(), "split at " + split);
            assertEquals(1, r.frames.size(), "split at " + split);
            assertArrayEquals(FATAL, r.frames.get(0), "split at " + split);
            assertEquals(3, r.ready);
        }
    }

    @Test
    void switchToRelayTakesEffectAtTheNextMessage() {
        // frames until the first ReadyForQuery (as pass-through swallowing the answers to its own requests), then relay
        byte[] stream = concat(ANSWER);
        int firstReadyEnd = ANSWER.get(0).length + ANSWER.get(1).length + ANSWER.get(2).length + ANSWER.get(3).length
                + ANSWER.get(4).length;
        for (int split = 0; split <= stream.length; split++) {
            ServerStreamDecoder decoder = new ServerStreamDecoder(1 << 20);
            Relayed r = new Relayed();
            EmbeddedChannel ch = new EmbeddedChannel(decoder, r.collector(decoder, true));
            feed(ch, stream, split, Integer.MAX_VALUE);
            assertEquals(5, r.frames.size(), "split at " + split);
            assertArrayEquals(java.util.Arrays.copyOfRange(stream, firstReadyEnd, stream.length), r.bytes.toByteArray(),
                    "split at " + split);
            assertEquals(2, r.ready, "split at " + split);
            ch.finishAndReleaseAll();
        }
    }

    @Test
    void switchToFramesInsideAPassedMessageFinishesItRawFirst() {
        byte[] big = message('D', new byte[100]);
        byte[] z = message('Z', new byte[] {'I'});
        byte[] stream = concat(List.of(big, z));
        ServerStreamDecoder decoder = new ServerStreamDecoder(1 << 20);
        decoder.relay(true);
        Relayed r = new Relayed();
        EmbeddedChannel ch = new EmbeddedChannel(decoder, r.collector(decoder, false));
        ch.writeInbound(Unpooled.wrappedBuffer(stream, 0, 50));
        decoder.relay(false);
        ch.writeInbound(Unpooled.wrappedBuffer(stream, 50, stream.length - 50));
        assertArrayEquals(big, r.bytes.toByteArray());
        assertEquals(1, r.frames.size());
        assertArrayEquals(z, r.frames.get(0));
        ch.finishAndReleaseAll();
    }

    private static Relayed relay(byte[] stream, int split) {
        return relay(stream, split, Integer.MAX_VALUE);
    }

    private static Relayed relay(byte[] stream, int first, int rest) {
        ServerStreamDecoder decoder = new ServerStreamDecoder(1 << 20);
        decoder.relay(true);
        Relayed r = new Relayed();
        EmbeddedChannel ch = new EmbeddedChannel(decoder, r.collector(decoder, false));
        feed(ch, stream, first, rest);
        assertTrue(ch.inboundMessages().isEmpty());
        ch.finishAndReleaseAll();
        return r;
    }

    /** Writes {@code stream} as a read of {@code first} bytes, then reads of {@code rest} bytes. */
    private static void feed(EmbeddedChannel ch, byte[] stream, int first, int rest) {
        int at = 0;
        int size = first;
        while (at < stream.length) {
            int n = Math.min(size, stream.length - at);
            if (n > 0) {
                ByteBuf read = ch.alloc().buffer(n);
                read.writeBytes(stream, at, n);
                ch.writeInbound(read);
            }
            at += n;
            size = rest;
        }
    }

    /** Every ReadyForQuery and ErrorResponse lies inside one relayed piece. */
    private static void assertWholeWatchedMessages(byte[] stream, List<int[]> cuts, String what) {
        int at = 0;
        while (at < stream.length) {
            int total = lengthAt(stream, at + 1) + 1;
            if (stream[at] == 'Z' || stream[at] == 'E') {
                int start = at;
                int end = at + total;
                assertTrue(cuts.stream().anyMatch(c -> c[0] <= start && end <= c[1]),
                        what + ": message '" + (char) stream[at] + "' at " + at + " was cut");
            }
            at += total;
        }
    }

    private static int lengthAt(byte[] b, int at) {
        return Unpooled.wrappedBuffer(b).getInt(at);
    }

    /** What came out of the decoder. */
    private static final class Relayed {
        final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        final List<byte[]> frames = new ArrayList<>();
        final List<int[]> cuts = new ArrayList<>();
        int ready;
        int errors;
        char lastStatus;
        int offset;

        ChannelInboundHandlerAdapter collector(ServerStreamDecoder decoder, boolean relayAfterFirstReady) {
            return new ChannelInboundHandlerAdapter() {
                @Override
                public void channelRead(ChannelHandlerContext ctx, Object msg) {
                    if (msg instanceof RelayedBytes r) {
                        byte[] b = ByteBufUtil.getBytes(r.bytes());
                        bytes.writeBytes(b);
                        cuts.add(new int[] {offset, offset + b.length});
                        offset += b.length;
                        ready += r.ready();
                        errors += r.errors();
                        if (r.ready() > 0) {
                            lastStatus = r.status();
                        }
                        r.release();
                    } else {
                        PgFrame f = (PgFrame) msg;
                        frames.add(ByteBufUtil.getBytes(f.frame()));
                        offset += f.frame().readableBytes();
                        if (relayAfterFirstReady && f.typeChar() == 'Z') {
                            decoder.relay(true);
                        }
                        f.release();
                    }
                }
            };
        }
    }

    static byte[] message(char type, byte[] body) {
        ByteBuf b = Unpooled.buffer();
        b.writeByte(type).writeInt(body.length + 4).writeBytes(body);
        return ByteBufUtil.getBytes(b);
    }

    private static byte[] cstring(String s) {
        return (s + "\0").getBytes(StandardCharsets.UTF_8);
    }

    private static byte[] errorFields(String severity, String code, String message) {
        return ("S" + severity + "\0V" + severity + "\0C" + code + "\0M" + message + "\0\0").getBytes(StandardCharsets.UTF_8);
    }

    static byte[] concat(List<byte[]> parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        parts.forEach(out::writeBytes);
        return out.toByteArray();
    }
}
