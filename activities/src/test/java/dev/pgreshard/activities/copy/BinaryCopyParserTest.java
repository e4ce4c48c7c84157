package dev.pgreshard.activities.copy;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The tuple splitter on streams cut at every possible place. */
class BinaryCopyParserTest {

    private static byte[] tuple(byte[]... fields) {
        ByteBuffer b = ByteBuffer.allocate(2 + Arrays.stream(fields).mapToInt(f -> 4 + (f == null ? 0 : f.length)).sum());
        b.putShort((short) fields.length);
        for (byte[] f : fields) {
            b.putInt(f == null ? -1 : f.length);
            if (f != null) {
                b.put(f);
            }
        }
        return b.array();
    }

    @Test
    void splitsTuplesAcrossAnyChunkBoundaries() throws IOException {
        Random random = new Random(1);
        List<byte[]> tuples = new ArrayList<>();
        List<Long> keys = new ArrayList<>();
        ByteArrayOutputStream stream = new ByteArrayOutputStream();
        stream.write(BinaryCopyParser.HEADER);
        for (int i = 0; i < 200; i++) {
            long key = random.nextLong();
            byte[] text = new byte[random.nextInt(3) == 0 ? 70_000 : random.nextInt(20)];
            random.nextBytes(text);
            byte[] t = tuple(text, i % 5 == 0 ? null : ByteBuffer.allocate(8).putLong(key).array(), new byte[0]);
            tuples.add(t);
            keys.add(i % 5 == 0 ? null : key);
            stream.write(t);
        }
        stream.write(BinaryCopyParser.TRAILER);
        byte[] all = stream.toByteArray();
        for (int chunk : new int[] {1, 3, 7, 19, 4096, 65536, all.length}) {
            List<byte[]> seen = new ArrayList<>();
            List<Long> seenKeys = new ArrayList<>();
            BinaryCopyParser parser = new BinaryCopyParser(3, new int[] {1}, (buf, off, len, fOff, fLen) -> {
                seen.add(Arrays.copyOfRange(buf, off, off + len));
                seenKeys.add(fLen[0] < 0 ? null : ByteBuffer.wrap(buf, fOff[0], fLen[0]).getLong());
            });
            for (int p = 0; p < all.length; p += chunk) {
                assertFalse(parser.finished());
                parser.feed(Arrays.copyOfRange(all, p, Math.min(all.length, p + chunk)));
            }
            assertTrue(parser.finished());
            assertEquals(tuples.size(), seen.size());
            for (int i = 0; i < tuples.size(); i++) {
                assertArrayEquals(tuples.get(i), seen.get(i), "tuple " + i + " with chunks of " + chunk);
            }
            assertEquals(keys, seenKeys);
        }
    }

    @Test
    void rejectsWhatIsNotABinaryCopyStream() {
        BinaryCopyParser parser = new BinaryCopyParser(1, new int[0], (buf, off, len, fOff, fLen) -> { });
        assertThrows(IOException.class, () -> parser.feed("id\tname\n1\tx\n and some more text".getBytes()));
        BinaryCopyParser wrongWidth = new BinaryCopyParser(2, new int[0], (buf, off, len, fOff, fLen) -> { });
        byte[] stream = ByteBuffer.allocate(19 + 10).put(BinaryCopyParser.HEADER).put(tuple(new byte[] {1})).array();
        IOException e = assertThrows(IOException.class, () -> wrongWidth.feed(stream));
        assertEquals("binary COPY tuple has 1 fields, expected 2", e.getMessage());
    }
}
