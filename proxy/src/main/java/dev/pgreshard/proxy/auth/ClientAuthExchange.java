package dev.pgreshard.proxy.auth;

import dev.pgreshard.proxy.protocol.BackendMessages;
import dev.pgreshard.proxy.protocol.ProtocolException;
import dev.pgreshard.proxy.protocol.Wire;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;

import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.List;

/**
 * One client's password exchange with the proxy. {@link #start} gives the first 'R' request;
 * each 'p' message from the client goes to {@link #onPasswordMessage}, which returns the next
 * message to send (null when the client is now authenticated) or throws {@link AuthenticationFailure}.
 * An unknown user runs the same exchange against a decoy and fails at the end, so the reply does not
 * reveal which user names exist.
 */
public final class ClientAuthExchange {
    private enum Step { SCRAM_FIRST, SCRAM_FINAL, MD5, DONE }

    private final AuthMethod method;
    private final UserDirectory.Login login; // null: unknown user
    private final String user;
    private final UserDirectory users;
    private final SecureRandom random;
    private Step step;
    private ScramServerExchange scram;
    private byte[] md5Salt;

    public ClientAuthExchange(AuthMethod method, UserDirectory users, String user, UserDirectory.Login login, SecureRandom random) {
        this.method = method;
        this.users = users;
        this.user = user;
        this.login = login;
        this.random = random;
    }

    public ByteBuf start(ByteBufAllocator alloc) {
        if (method == AuthMethod.MD5) {
            step = Step.MD5;
            md5Salt = new byte[4];
            random.nextBytes(md5Salt);
            return BackendMessages.authenticationMd5(alloc, md5Salt);
        }
        step = Step.SCRAM_FIRST;
        scram = new ScramServerExchange(login == null ? users.decoyVerifier() : users.verifier(login), random);
        return BackendMessages.authenticationSasl(alloc, List.of("SCRAM-SHA-256"));
    }

    /** Handles the body of a 'p' message. */
    public ByteBuf onPasswordMessage(ByteBuf body, ByteBufAllocator alloc) throws AuthenticationFailure {
        try {
            switch (step) {
                case MD5 -> {
                    String response = Wire.readCString(body);
                    step = Step.DONE;
                    if (login == null || !Md5Password.matches(user, login.password(), md5Salt, response)) {
                        throw new AuthenticationFailure(login == null ? "unknown user" : "wrong password");
                    }
                    return null;
                }
                case SCRAM_FIRST -> {
                    // SASLInitialResponse: String mechanism, Int32 n, Byte[n] client-first-message
                    String mechanism = Wire.readCString(body);
                    if (!mechanism.equals("SCRAM-SHA-256")) {
                        throw new AuthenticationFailure("client chose SASL mechanism " + mechanism + ", not offered");
                    }
                    int n = body.readInt();
                    if (n < 0 || n > body.readableBytes()) {
                        throw new AuthenticationFailure("malformed SASLInitialResponse");
                    }
                    String first = body.readCharSequence(n, StandardCharsets.UTF_8).toString();
                    step = Step.SCRAM_FINAL;
                    return BackendMessages.authenticationSaslContinue(alloc, scram.clientFirst(first));
                }
                case SCRAM_FINAL -> {
                    // SASLResponse: Byte[n] client-final-message
                    String fin = body.toString(StandardCharsets.UTF_8);
                    step = Step.DONE;
                    String serverFinal = scram.clientFinal(fin);
                    if (login == null) {
                        throw new AuthenticationFailure("unknown user");
                    }
                    return BackendMessages.authenticationSaslFinal(alloc, serverFinal);
                }
                default -> throw new AuthenticationFailure("unexpected password message");
            }
        } catch (IndexOutOfBoundsException | ProtocolException e) {
            throw new AuthenticationFailure("malformed password message");
        }
    }

    /** True once the exchange has ended with a success (SCRAM sends SASLFinal before AuthenticationOk). */
    public boolean done() {
        return step == Step.DONE;
    }
}
