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
        String severity = fields(frame).get('V');
        return "FATAL".equals(severity) || "PANIC".equals(severity);
    }

    /** "SQLSTATE: message" of an ErrorResponse, for logs and wrapped errors. */
    public static String describeError(PgFrame frame) {
        Map<Character, String> f = fields(frame);
        return f.getOrDefault('C', "?????") + ": " + f.getOrDefault('M', "");
    }
}
