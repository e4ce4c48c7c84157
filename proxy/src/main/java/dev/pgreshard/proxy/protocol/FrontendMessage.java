package dev.pgreshard.proxy.protocol;

import io.netty.buffer.ByteBuf;

/**
 * Typed frontend messages of the message phase. Pass-through forwards raw {@link PgFrame}s and decodes
 * only what it must inspect; routing and the admin database decode with {@link #decode(PgFrame)}.
 * Each record documents its body layout (after {@code Byte1 type, Int32 length}).
 */
public sealed interface FrontendMessage {

    /** 'Q': {@code String sql}. */
    record Query(String sql) implements FrontendMessage {
    }

    /** 'P': {@code String statement, String sql, Int16 n, Int32 paramType[n]}. */
    record Parse(String statement, String sql, int[] paramTypes) implements FrontendMessage {
    }

    /**
     * 'B': {@code String portal, String statement, Int16 nf, Int16 format[nf], Int16 np,
     * (Int32 len, Byte[len])[np] (len -1 = NULL), Int16 nr, Int16 resultFormat[nr]}.
     */
    record Bind(String portal, String statement, short[] paramFormats, byte[][] params) implements FrontendMessage {
        /** The format (0 text, 1 binary) of parameter {@code i}, per the protocol's 0/1/n rule. */
        public int format(int i) {
            if (paramFormats.length == 0) {
                return 0;
            }
            return paramFormats.length == 1 ? paramFormats[0] : paramFormats[i];
        }
    }

    /** 'D': {@code Byte1 kind ('S' statement | 'P' portal), String name}. */
    record Describe(char kind, String name) implements FrontendMessage {
    }

    /** 'E': {@code String portal, Int32 maxRows (0 = all)}. */
    record Execute(String portal, int maxRows) implements FrontendMessage {
    }

    /** 'C': {@code Byte1 kind ('S' | 'P'), String name}. */
    record Close(char kind, String name) implements FrontendMessage {
    }

    /** 'S': empty. Ends an extended-protocol batch; errors skip to here. */
    record Sync() implements FrontendMessage {
    }

    /** 'H': empty. */
    record Flush() implements FrontendMessage {
    }

    /** 'X': empty. */
    record Terminate() implements FrontendMessage {
    }

    /** 'd': {@code Byte[n] data}. */
    record CopyData(ByteBuf data) implements FrontendMessage {
    }

    /** 'c': empty. */
    record CopyDone() implements FrontendMessage {
    }

    /** 'f': {@code String reason}. */
    record CopyFail(String reason) implements FrontendMessage {
    }

    /**
     * 'p': its layout depends on the authentication exchange: PasswordMessage {@code String password},
     * SASLInitialResponse {@code String mechanism, Int32 n, Byte[n]}, SASLResponse {@code Byte[n]}.
     * Kept raw; the authenticator reads it.
     */
    record Password(ByteBuf body) implements FrontendMessage {
    }

    /**
     * Message-phase frontend types of protocol 3.0: Bind, Close, CopyData/Done/Fail, Describe, Execute,
     * Flush, FunctionCall, Parse, Query, Sync, Terminate.
     */
    String MESSAGE_PHASE_TYPES = "BCdcfDEHFPQSX";

    static boolean isMessagePhaseType(char type) {
        return MESSAGE_PHASE_TYPES.indexOf(type) >= 0;
    }

    /** The error for a message type outside {@link #MESSAGE_PHASE_TYPES} (unprintable bytes in hex). */
    static String invalidTypeError(char type) {
        return "invalid frontend message type '" + (type >= 32 && type < 127 ? String.valueOf(type)
                : String.format("\\x%02x", (int) type)) + "'; the proxy accepts the PostgreSQL 3.0 frontend messages "
                + MESSAGE_PHASE_TYPES;
    }

    /** Decodes a frame (the frame keeps ownership of its buffer; byte views are only valid while it lives). */
    static FrontendMessage decode(PgFrame frame) {
        ByteBuf b = frame.body();
        try {
            FrontendMessage m = switch (frame.typeChar()) {
                case 'Q' -> new Query(Wire.readCString(b));
                case 'P' -> {
                    String name = Wire.readCString(b);
                    String sql = Wire.readCString(b);
                    int n = b.readUnsignedShort();
                    int[] types = new int[n];
                    for (int i = 0; i < n; i++) {
                        types[i] = b.readInt();
                    }
                    yield new Parse(name, sql, types);
                }
                case 'B' -> {
                    String portal = Wire.readCString(b);
                    String stmt = Wire.readCString(b);
                    int nf = b.readUnsignedShort();
                    short[] formats = new short[nf];
                    for (int i = 0; i < nf; i++) {
                        formats[i] = b.readShort();
                    }
                    int np = b.readUnsignedShort();
                    byte[][] params = new byte[np][];
                    for (int i = 0; i < np; i++) {
                        params[i] = Wire.readNullableBytes(b);
                    }
                    yield new Bind(portal, stmt, formats, params);
                }
                case 'D' -> new Describe((char) b.readByte(), Wire.readCString(b));
                case 'E' -> new Execute(Wire.readCString(b), b.readInt());
                case 'C' -> new Close((char) b.readByte(), Wire.readCString(b));
                case 'S' -> new Sync();
                case 'H' -> new Flush();
                case 'X' -> new Terminate();
                case 'd' -> new CopyData(b);
                case 'c' -> new CopyDone();
                case 'f' -> new CopyFail(Wire.readCString(b));
                case 'p' -> new Password(b);
                default -> throw new ProtocolException("invalid frontend message type '" + frame.typeChar() + "'");
            };
            return m;
        } catch (IndexOutOfBoundsException e) {
            throw new ProtocolException("truncated '" + frame.typeChar() + "' message");
        }
    }
}
