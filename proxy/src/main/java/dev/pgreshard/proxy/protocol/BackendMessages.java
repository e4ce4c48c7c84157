package dev.pgreshard.proxy.protocol;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;

import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * Encoders of the backend messages the proxy writes itself, towards a client (the servers' messages are
 * forwarded as they came). Layouts after {@code Byte1 type, Int32 length}. The frontend counterpart, for
 * what the proxy sends to servers, is {@link FrontendMessages}.
 */
public final class BackendMessages {
    private BackendMessages() {
    }

    /**
     * The answer to SSLRequest or GSSENCRequest, in the startup phase: one unframed byte, 'S' (willing:
     * the TLS handshake follows) or 'N' (not willing: the client may go on unencrypted).
     */
    public static ByteBuf encryptionResponse(ByteBufAllocator alloc, boolean willing) {
        return alloc.buffer(1).writeByte(willing ? 'S' : 'N');
    }

    /** 'R' AuthenticationOk: {@code Int32 0}. */
    public static ByteBuf authenticationOk(ByteBufAllocator alloc) {
        return auth(alloc, 0, null);
    }

    /** 'R' AuthenticationMD5Password: {@code Int32 5, Byte4 salt}. */
    public static ByteBuf authenticationMd5(ByteBufAllocator alloc, byte[] salt) {
        return auth(alloc, 5, salt);
    }

    /** 'R' AuthenticationSASL: {@code Int32 10, String mechanism*, Byte1 0}. */
    public static ByteBuf authenticationSasl(ByteBufAllocator alloc, List<String> mechanisms) {
        ByteBuf b = alloc.buffer();
        int at = Wire.beginMessage(b, 'R');
        b.writeInt(10);
        for (String m : mechanisms) {
            Wire.writeCString(b, m);
        }
        b.writeByte(0);
        Wire.endMessage(b, at);
        return b;
    }

    /** 'R' AuthenticationSASLContinue: {@code Int32 11, Byte[n] server-first-message}. */
    public static ByteBuf authenticationSaslContinue(ByteBufAllocator alloc, String data) {
        return auth(alloc, 11, data.getBytes(StandardCharsets.UTF_8));
    }

    /** 'R' AuthenticationSASLFinal: {@code Int32 12, Byte[n] server-final-message}. */
    public static ByteBuf authenticationSaslFinal(ByteBufAllocator alloc, String data) {
        return auth(alloc, 12, data.getBytes(StandardCharsets.UTF_8));
    }

    private static ByteBuf auth(ByteBufAllocator alloc, int code, byte[] extra) {
        ByteBuf b = alloc.buffer();
        int at = Wire.beginMessage(b, 'R');
        b.writeInt(code);
        if (extra != null) {
            b.writeBytes(extra);
        }
        Wire.endMessage(b, at);
        return b;
    }

    /** 'S' ParameterStatus: {@code String name, String value}. */
    public static ByteBuf parameterStatus(ByteBufAllocator alloc, String name, String value) {
        ByteBuf b = alloc.buffer();
        int at = Wire.beginMessage(b, 'S');
        Wire.writeCString(b, name);
        Wire.writeCString(b, value);
        Wire.endMessage(b, at);
        return b;
    }

    /** 'K' BackendKeyData: {@code Int32 processId, Int32 secretKey}. */
    public static ByteBuf backendKeyData(ByteBufAllocator alloc, int pid, int secret) {
        ByteBuf b = alloc.buffer(13);
        int at = Wire.beginMessage(b, 'K');
        b.writeInt(pid);
        b.writeInt(secret);
        Wire.endMessage(b, at);
        return b;
    }

    /** 'Z' ReadyForQuery: {@code Byte1 status ('I' idle, 'T' in transaction, 'E' failed transaction)}. */
    public static ByteBuf readyForQuery(ByteBufAllocator alloc, char status) {
        ByteBuf b = alloc.buffer(6);
        int at = Wire.beginMessage(b, 'Z');
        b.writeByte(status);
        Wire.endMessage(b, at);
        return b;
    }

    /**
     * 'E' ErrorResponse: {@code (Byte1 field, String value)*, Byte1 0}; fields S/V severity, C code, M message.
     */
    public static ByteBuf error(ByteBufAllocator alloc, String severity, String sqlState, String message) {
        return notice(alloc, 'E', severity, sqlState, message);
    }

    /** 'N' NoticeResponse: same layout as ErrorResponse. */
    public static ByteBuf notice(ByteBufAllocator alloc, String sqlState, String message) {
        return notice(alloc, 'N', "NOTICE", sqlState, message);
    }

    private static ByteBuf notice(ByteBufAllocator alloc, char type, String severity, String sqlState, String message) {
        ByteBuf b = alloc.buffer();
        int at = Wire.beginMessage(b, type);
        b.writeByte('S');
        Wire.writeCString(b, severity);
        b.writeByte('V');
        Wire.writeCString(b, severity);
        b.writeByte('C');
        Wire.writeCString(b, sqlState);
        b.writeByte('M');
        Wire.writeCString(b, message);
        b.writeByte(0);
        Wire.endMessage(b, at);
        return b;
    }

    /**
     * 'T' RowDescription: {@code Int16 n, (String name, Int32 tableOid, Int16 attnum, Int32 typeOid,
     * Int16 typlen, Int32 typmod, Int16 format)[n]}. All columns here are text (oid 25).
     */
    public static ByteBuf textRowDescription(ByteBufAllocator alloc, List<String> columns) {
        ByteBuf b = alloc.buffer();
        int at = Wire.beginMessage(b, 'T');
        b.writeShort(columns.size());
        for (String c : columns) {
            Wire.writeCString(b, c);
            b.writeInt(0);
            b.writeShort(0);
            b.writeInt(25);
            b.writeShort(-1);
            b.writeInt(-1);
            b.writeShort(0);
        }
        Wire.endMessage(b, at);
        return b;
    }

    /** 'D' DataRow: {@code Int16 n, (Int32 len, Byte[len])[n]} (len -1 = NULL); values as text. */
    public static ByteBuf textDataRow(ByteBufAllocator alloc, List<String> values) {
        ByteBuf b = alloc.buffer();
        int at = Wire.beginMessage(b, 'D');
        b.writeShort(values.size());
        for (String v : values) {
            if (v == null) {
                b.writeInt(-1);
            } else {
                byte[] bytes = v.getBytes(StandardCharsets.UTF_8);
                b.writeInt(bytes.length);
                b.writeBytes(bytes);
            }
        }
        Wire.endMessage(b, at);
        return b;
    }

    /** 't' ParameterDescription: {@code Int16 n, Int32 typeOid[n]}. */
    public static ByteBuf parameterDescription(ByteBufAllocator alloc, int[] typeOids) {
        ByteBuf b = alloc.buffer(7 + 4 * typeOids.length);
        int at = Wire.beginMessage(b, 't');
        b.writeShort(typeOids.length);
        for (int oid : typeOids) {
            b.writeInt(oid);
        }
        Wire.endMessage(b, at);
        return b;
    }

    /** 'C' CommandComplete: {@code String tag}, e.g. "SELECT 3", "INSERT 0 1". */
    public static ByteBuf commandComplete(ByteBufAllocator alloc, String tag) {
        ByteBuf b = alloc.buffer();
        int at = Wire.beginMessage(b, 'C');
        Wire.writeCString(b, tag);
        Wire.endMessage(b, at);
        return b;
    }

    /** '1' ParseComplete, '2' BindComplete, '3' CloseComplete, 'n' NoData, 'I' EmptyQueryResponse: empty bodies. */
    public static ByteBuf empty(ByteBufAllocator alloc, char type) {
        ByteBuf b = alloc.buffer(5);
        b.writeByte(type);
        b.writeInt(4);
        return b;
    }
}
