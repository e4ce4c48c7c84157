package dev.pgreshard.proxy.auth;

import com.ongres.scram.client.ScramClient;
import com.ongres.scram.common.ScramFunctions;
import com.ongres.scram.common.ServerFirstMessage;
import com.ongres.scram.common.StringPreparation;
import dev.pgreshard.core.config.Credentials;
import dev.pgreshard.proxy.protocol.FrontendMessages;
import dev.pgreshard.proxy.protocol.Wire;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;

import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * The client side of a server's authentication request ('R' messages, {@code Int32 code, ...}):
 * trust (0 straight away), cleartext (3), md5 (5, {@code Byte4 salt}) and SCRAM-SHA-256 (10/11/12).
 * Each answer is a 'p' message, encoded by {@link FrontendMessages}. One instance per backend login.
 */
public final class BackendLogin {
    private static final SecureRandom RANDOM = new SecureRandom();
    private final Credentials credentials;
    private ScramClient scram;
    /** This login's SCRAM client nonce: the client that answers the server's salt is built anew with it. */
    private String nonce;

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
                nonce = ScramFunctions.nonce(24, RANDOM);
                // the password is not hashed before the salt is known: this client only writes the first message
                scram = client(stage -> stage.password(credentials.password().reveal().toCharArray()));
                return FrontendMessages.saslInitialResponse(alloc, "SCRAM-SHA-256", scram.clientFirstMessage().toString());
            }
            case 11: {
                requireScram();
                String serverFirst = body.toString(StandardCharsets.UTF_8);
                try {
                    ServerFirstMessage parsed = ServerFirstMessage.parseFrom(serverFirst, nonce);
                    // the same exchange, answered from the salted password computed once per password and salt
                    byte[] salted = SaltedPasswords.of(credentials.password().reveal(), parsed.getSalt(), parsed.getIterationCount());
                    scram = client(stage -> stage.saltedPassword(salted));
                    scram.clientFirstMessage();
                    scram.serverFirstMessage(serverFirst);
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

    /**
     * This login's SCRAM client with the given credential (password or salted password): every other setting,
     * the nonce included, is the same for both clients of a login, so both write the same client-first-message.
     */
    private ScramClient client(Function<ScramClient.PasswordBuildStage, ScramClient.FinalBuildStage> credential) {
        return credential.apply(ScramClient.builder().advertisedMechanisms(List.of("SCRAM-SHA-256")).username("*"))
                .stringPreparation(StringPreparation.POSTGRESQL_PREPARATION).nonceSupplier(() -> nonce).build();
    }

    private void requireScram() throws AuthenticationFailure {
        if (scram == null) {
            throw new AuthenticationFailure("SCRAM message out of order");
        }
    }
}
