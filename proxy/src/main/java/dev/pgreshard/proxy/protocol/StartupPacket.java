package dev.pgreshard.proxy.protocol;

import io.netty.buffer.ByteBuf;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The packets of the startup framing ({@code Int32 length, Int32 code, ...}), distinguished by the code.
 */
public sealed interface StartupPacket {
    int PROTOCOL_3_0 = 196608;
    int CANCEL_CODE = 80877102;
    int SSL_CODE = 80877103;
    int GSSENC_CODE = 80877104;

    /** {@code Int32 8, Int32 80877103}: the client asks for TLS; answered with one byte 'S' or 'N'. */
    record SslRequest() implements StartupPacket {
    }

    /** {@code Int32 8, Int32 80877104}: the client asks for GSSAPI encryption; always refused ('N'). */
    record GssEncRequest() implements StartupPacket {
    }

    /** {@code Int32 16, Int32 80877102, Int32 processId, Int32 secretKey}: cancel that backend's query. */
    record CancelRequest(int processId, int secretKey) implements StartupPacket {
    }

    /**
     * {@code Int32 length, Int32 protocol (3.0 = 196608), then (String name, String value)* and a final
     * zero byte}. Parameters: user (required), database (defaults to user), options, application_name, ...
     */
    record StartupMessage(int protocol, Map<String, String> parameters) implements StartupPacket {
        public String user() {
            return parameters.get("user");
        }

        public String database() {
            String db = parameters.get("database");
            return db == null || db.isEmpty() ? user() : db;
        }
    }

    /** Decodes one whole packet (length word included). */
    static StartupPacket decode(ByteBuf packet) {
        int length = packet.readInt();
        int code = packet.readInt();
        switch (code) {
            case SSL_CODE -> {
                return new SslRequest();
            }
            case GSSENC_CODE -> {
                return new GssEncRequest();
            }
            case CANCEL_CODE -> {
                if (length != 16) {
                    throw ProtocolException.silent("invalid cancel request length " + length);
                }
                return new CancelRequest(packet.readInt(), packet.readInt());
            }
            default -> {
                if (code >>> 16 != 3) {
                    // PostgreSQL's own words and code, so that clients that fall back on them keep working
                    throw new ProtocolException(SqlState.FEATURE_NOT_SUPPORTED, "unsupported frontend protocol "
                            + (code >>> 16) + "." + (code & 0xffff) + ": server supports 3.0 to 3.0");
                }
                Map<String, String> params = new LinkedHashMap<>();
                while (packet.isReadable()) {
                    String name = Wire.readCString(packet);
                    if (name.isEmpty()) {
                        break;
                    }
                    if (!packet.isReadable()) {
                        throw new ProtocolException("startup parameter '" + name + "' has no value");
                    }
                    params.put(name, Wire.readCString(packet));
                }
                if (params.get("user") == null || params.get("user").isEmpty()) {
                    throw new ProtocolException(SqlState.INVALID_AUTHORIZATION, "no PostgreSQL user name specified in startup packet");
                }
                return new StartupMessage(code, Collections.unmodifiableMap(params));
            }
        }
    }
}
