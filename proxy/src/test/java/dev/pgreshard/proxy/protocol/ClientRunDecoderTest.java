package dev.pgreshard.proxy.protocol;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;

import static dev.pgreshard.proxy.protocol.ServerStreamDecoderTest.concat;
import static dev.pgreshard.proxy.protocol.ServerStreamDecoderTest.message;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A client's messages come out of {@link PgFrameDecoder#forClient} as runs of whole messages, whatever
 * the reads: split at every byte, each run starts and ends on a message boundary and the runs together
 * are the stream as sent.
 */
class ClientRunDecoderTest {
    private static final List<byte[]> PIPELINE = List.of(
            message('P', "s1\0select $1\0\0\0".getBytes(StandardCharsets.UTF_8)),
            message('B', new byte[200]),
            message('D', "P\0".getBytes(StandardCharsets.UTF_8)),
            message('E', "\0\0\0\0\0".getBytes(StandardCharsets.UTF_8)),
            message('S', new byte[0]),
            message('Q', "select 1\0".getBytes(StandardCharsets.UTF_8)),
            message('X', new byte[0]));

    @Test
    void runsHoldWholeMessagesAtEverySplit() {
        byte[] stream = concat(PIPELINE);
        for (int split = 0; split <= stream.length; split++) {
            EmbeddedChannel ch = new EmbeddedChannel(messagePhaseDecoder());
            if (split > 0) {
                ch.writeInbound(Unpooled.wrappedBuffer(stream, 0, split));
            }
            if (split < stream.length) {
                ch.writeInbound(Unpooled.wrappedBuffer(stream, split, stream.length - split));
            }
            ByteArrayOutputStream all = new ByteArrayOutputStream();
            for (Object o; (o = ch.readInbound()) != null; ) {
                ByteBuf run = assertInstanceOf(ByteBuf.class, o);
                byte[] b = ByteBufUtil.getBytes(run);
                assertTrue(wholeMessages(b), "split at " + split + ": a run cut a message");
                all.writeBytes(b);
                run.release();
            }
            assertArrayEquals(stream, all.toByteArray(), "split at " + split);
            ch.finishAndReleaseAll();
        }
    }

    @Test
    void messagesBeforeABadLengthComeFirstThenTheError() {
        byte[] good = message('Q', "select 1\0".getBytes(StandardCharsets.UTF_8));
        byte[] bad = {'Q', 0, 0, 0, 2};
        EmbeddedChannel ch = new EmbeddedChannel(messagePhaseDecoder());
        assertThrows(Exception.class, () -> ch.writeInbound(Unpooled.wrappedBuffer(concat(List.of(good, bad)))));
        ByteBuf run = ch.readInbound();
        assertArrayEquals(good, ByteBufUtil.getBytes(run));
        run.release();
        assertThrows(Exception.class, ch::finishAndReleaseAll, "the bad message is still refused when the channel closes");
    }

    private static PgFrameDecoder messagePhaseDecoder() {
        PgFrameDecoder decoder = PgFrameDecoder.forClient(1 << 20);
        decoder.startMessages();
        return decoder;
    }

    private static boolean wholeMessages(byte[] b) {
        int at = 0;
        while (at + 5 <= b.length) {
            at += Unpooled.wrappedBuffer(b).getInt(at + 1) + 1;
        }
        return at == b.length && b.length > 0;
    }

    @Test
    void streamRoundTripsOneBytePerRead() {
        byte[] stream = concat(PIPELINE);
        EmbeddedChannel ch = new EmbeddedChannel(messagePhaseDecoder());
        for (byte b : stream) {
            ch.writeInbound(Unpooled.wrappedBuffer(new byte[] {b}));
        }
        int runs = 0;
        ByteArrayOutputStream all = new ByteArrayOutputStream();
        for (Object o; (o = ch.readInbound()) != null; runs++) {
            ByteBuf run = (ByteBuf) o;
            all.writeBytes(ByteBufUtil.getBytes(run));
            run.release();
        }
        assertEquals(PIPELINE.size(), runs);
        assertArrayEquals(stream, all.toByteArray());
        ch.finishAndReleaseAll();
    }
}
