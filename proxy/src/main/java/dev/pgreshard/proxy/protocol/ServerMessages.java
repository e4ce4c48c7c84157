package dev.pgreshard.proxy.protocol;

import io.netty.buffer.ByteBuf;

import java.util.LinkedHashMap;
import java.util.Map;

/** Decoders for the backend messages the proxy inspects (layouts as in {@link BackendMessages}). */
public final class ServerMessages {
    private ServerMessages() {
    }

    /** 'Z': the transaction status byte. */
    public static char readyStatus(PgFrame frame) {
        return (char) frame.body().getByte(0);
    }

    /** 'C': the command tag. */
    public static String commandTag(PgFrame frame) {
        return Wire.readCString(frame.body());
    }

    /** The row count at the end of a CommandComplete tag ("UPDATE 3" → 3); 0 for tags without one. */
    public static long commandCount(PgFrame commandComplete) {
        String tag = commandTag(commandComplete);
        int sp = tag.lastIndexOf(' ');
        try {
            return sp < 0 ? 0 : Long.parseLong(tag.substring(sp + 1));
        } catch (NumberFormatException e) {
            return 0;
        }
    }

    /** "SELECT 3" + 4 → "SELECT 7"; tags without a count stay as they are. */
    public static String addToCount(String tag, long others) {
        int sp = tag.lastIndexOf(' ');
        if (sp < 0) {
            return tag;
        }
        try {
            return tag.substring(0, sp + 1) + (Long.parseLong(tag.substring(sp + 1)) + others);
        } catch (NumberFormatException e) {
            return tag;
        }
    }

    /** 'E'/'N': field code → value. */
    public static Map<Character, String> fields(PgFrame frame) {
        ByteBuf b = frame.body();
        Map<Character, String> fields = new LinkedHashMap<>();
        while (b.isReadable()) {
            byte code = b.readByte();
            if (code == 0) {
                break;
            }
            fields.put((char) code, Wire.readCString(b));
        }
        return fields;
    }

    /**
     * An ErrorResponse of severity FATAL or PANIC: the server ends the session with it (a
     * pg_terminate_backend, a shutdown, a session timeout) and closes the connection.
     */
    public static boolean endsSession(PgFrame frame) {
        if (frame.typeChar() != 'E') {
            return false;
        }
        ByteBuf f = frame.frame();
        return isFatal(f, f.readerIndex() + PgFrame.HEADER, f.writerIndex());
    }

    /**
     * Whether the ErrorResponse fields in {@code buf[from, to)} (after the header) carry the
     * non-localized severity 'V' FATAL or PANIC; read in place, nothing allocated.
     */
    public static boolean isFatal(ByteBuf buf, int from, int to) {
        int at = from;
        while (at < to) {
            byte code = buf.getByte(at);
            if (code == 0) {
                return false;
            }
            int valueEnd = buf.indexOf(at + 1, to, (byte) 0);
            if (valueEnd < 0) {
                return false;
            }
            if (code == 'V') {
                return valueEnd - at - 1 == 5 && (startsWith(buf, at + 1, "FATAL") || startsWith(buf, at + 1, "PANIC"));
            }
            at = valueEnd + 1;
        }
        return false;
    }

    private static boolean startsWith(ByteBuf buf, int at, String ascii) {
        for (int i = 0; i < ascii.length(); i++) {
            if (buf.getByte(at + i) != ascii.charAt(i)) {
                return false;
            }
        }
        return true;
    }

    /** "SQLSTATE: message" of an ErrorResponse, for logs and wrapped errors. */
    public static String describeError(PgFrame frame) {
        Map<Character, String> f = fields(frame);
        return f.getOrDefault('C', "?????") + ": " + f.getOrDefault('M', "");
    }
}
