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

    /** "SQLSTATE: message" of an ErrorResponse, for logs and wrapped errors. */
    public static String describeError(PgFrame frame) {
        Map<Character, String> f = fields(frame);
        return f.getOrDefault('C', "?????") + ": " + f.getOrDefault('M', "");
    }
}
