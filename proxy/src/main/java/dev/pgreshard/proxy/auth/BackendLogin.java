package dev.pgreshard.proxy.auth;

import com.ongres.scram.client.ScramClient;
import com.ongres.scram.common.StringPreparation;
import dev.pgreshard.core.config.Credentials;
import dev.pgreshard.proxy.protocol.FrontendMessages;
import dev.pgreshard.proxy.protocol.Wire;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * The client side of a server's authentication request ('R' messages, {@code Int32 code, ...}):
 * trust (0 straight away), cleartext (3), md5 (5, {@code Byte4 salt}) and SCRAM-SHA-256 (10/11/12).
 * Each answer is a 'p' message, encoded by {@link FrontendMessages}. One instance per backend login.
 */
public final class BackendLogin {
    private final Credentials credentials;
    private ScramClient scram;

    public BackendLogin(Credentials credentials) {
        this.credentials = credentials;
    }

    /**
     * Handles the body of an 'R' message. Returns the answer to send, null when nothing is to be sent
     * (AuthenticationOk, SASLFinal); throws with a clear reason on anything unsupported or failing.
     */
    public ByteBuf onRequest(ByteBuf body, ByteBufAllocator alloc) throws AuthenticationFailure {
        int code = body.readInt();
        switch (code) {
            case 0:
                return null;
            case 3:
                return FrontendMessages.passwordMessage(alloc, credentials.password().reveal());
            case 5: {
                byte[] salt = new byte[4];
                body.readBytes(salt);
                return FrontendMessages.passwordMessage(alloc, Md5Password.encode(credentials.user(), credentials.password().reveal(), salt));
            }
            case 10: {
                List<String> mechanisms = new ArrayList<>();
                while (body.isReadable()) {
                    String m = Wire.readCString(body);
                    if (m.isEmpty()) {
                        break;
                    }
                    mechanisms.add(m);
                }
                if (!mechanisms.contains("SCRAM-SHA-256")) {
                    throw new AuthenticationFailure("the server offers only " + mechanisms + "; pgreshard supports SCRAM-SHA-256");
                }
                scram = ScramClient.builder().advertisedMechanisms(List.of("SCRAM-SHA-256"))
                        .username("*").password(credentials.password().reveal().toCharArray())
                        .stringPreparation(StringPreparation.POSTGRESQL_PREPARATION).build();
                return FrontendMessages.saslInitialResponse(alloc, "SCRAM-SHA-256", scram.clientFirstMessage().toString());
            }
            case 11: {
                requireScram();
                try {
                    scram.serverFirstMessage(body.toString(StandardCharsets.UTF_8));
                } catch (Exception e) {
                    throw new AuthenticationFailure("bad SCRAM server-first-message: " + e.getMessage());
                }
                return FrontendMessages.saslResponse(alloc, scram.clientFinalMessage().toString());
            }
            case 12: {
                requireScram();
                try {
                    scram.serverFinalMessage(body.toString(StandardCharsets.UTF_8));
                } catch (Exception e) {
                    throw new AuthenticationFailure("the server's SCRAM signature does not verify: " + e.getMessage());
                }
                return null;
            }
            default:
                throw new AuthenticationFailure("the server asks for authentication method " + code
                        + ", which pgreshard does not support (use scram-sha-256, md5, password or trust)");
        }
    }

    private void requireScram() throws AuthenticationFailure {
        if (scram == null) {
            throw new AuthenticationFailure("SCRAM message out of order");
        }
    }
}
