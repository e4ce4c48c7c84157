package dev.pgreshard.proxy.auth;

import com.ongres.scram.common.ScramFunctions;
import com.ongres.scram.common.ServerFirstMessage;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Base64;

/**
 * The server side of one SCRAM-SHA-256 exchange (without channel binding, as PostgreSQL offers it
 * over plain TCP). Two steps: {@link #clientFirst} answers the server-first-message, {@link #clientFinal}
 * checks the proof and answers the server-final-message. The user name inside the SCRAM messages is
 * ignored, as in PostgreSQL: the startup packet's user is the one being authenticated.
 */
public final class ScramServerExchange {
    private final ScramVerifier verifier;
    private final SecureRandom random;
    private String clientFirstBare;
    private String serverFirst;
    private String nonce;
    private String gs2Header;

    public ScramServerExchange(ScramVerifier verifier, SecureRandom random) {
        this.verifier = verifier;
        this.random = random;
    }

    /** Consumes client-first-message ({@code gs2-header client-first-bare}); returns server-first-message. */
    public String clientFirst(String message) throws AuthenticationFailure {
        // gs2-header: cbind-flag ("n" | "y" | "p=name") "," [authzid] ","; then client-first-bare
        // "n=user,r=nonce[,ext]". libpq sends an empty user name, which stricter parsers reject, so parse here.
        if (message.startsWith("p=")) {
            throw new AuthenticationFailure("SCRAM channel binding was not offered by this server");
        }
        if (!(message.startsWith("n,") || message.startsWith("y,"))) {
            throw new AuthenticationFailure("malformed SCRAM client-first-message");
        }
        int secondComma = message.indexOf(',', 2);
        if (secondComma < 0) {
            throw new AuthenticationFailure("malformed SCRAM client-first-message");
        }
        gs2Header = message.substring(0, secondComma + 1);
        clientFirstBare = message.substring(secondComma + 1);
        String clientNonce = null;
        for (String attribute : clientFirstBare.split(",")) {
            if (attribute.startsWith("r=")) {
                clientNonce = attribute.substring(2);
            } else if (attribute.startsWith("m=")) {
                throw new AuthenticationFailure("unsupported mandatory SCRAM extension");
            }
        }
        if (clientNonce == null || clientNonce.isEmpty() || !clientFirstBare.startsWith("n=")) {
            throw new AuthenticationFailure("malformed SCRAM client-first-message");
        }
        String serverNonce = ScramFunctions.nonce(24, random);
        nonce = clientNonce + serverNonce;
        serverFirst = new ServerFirstMessage(clientNonce, serverNonce, verifier.saltBase64(),
                verifier.iterations()).toString();
        return serverFirst;
    }

    /**
     * Consumes client-final-message ({@code c=<b64 gs2-header>,r=<nonce>,p=<b64 proof>}); returns
     * server-final-message ({@code v=<b64 ServerSignature>}) or throws when the proof is wrong.
     */
    public String clientFinal(String message) throws AuthenticationFailure {
        if (serverFirst == null) {
            throw new AuthenticationFailure("SCRAM client-final-message before client-first-message");
        }
        int proofAt = message.lastIndexOf(",p=");
        if (proofAt < 0) {
            throw new AuthenticationFailure("malformed SCRAM client-final-message");
        }
        String withoutProof = message.substring(0, proofAt);
        String expectedBinding = "c=" + Base64.getEncoder().encodeToString(gs2Header.getBytes(StandardCharsets.UTF_8));
        if (!withoutProof.equals(expectedBinding + ",r=" + nonce)) {
            throw new AuthenticationFailure("SCRAM nonce or channel binding mismatch");
        }
        byte[] proof;
        try {
            proof = Base64.getDecoder().decode(message.substring(proofAt + 3));
        } catch (IllegalArgumentException e) {
            throw new AuthenticationFailure("malformed SCRAM proof");
        }
        String authMessage = clientFirstBare + "," + serverFirst + "," + withoutProof;
        byte[] clientSignature = ScramFunctions.clientSignature(ScramVerifier.MECHANISM, verifier.storedKey(), authMessage);
        if (proof.length != clientSignature.length) {
            throw new AuthenticationFailure("wrong password");
        }
        byte[] clientKey = ScramFunctions.clientProof(proof, clientSignature); // XOR recovers ClientKey
        byte[] stored = ScramFunctions.hash(ScramVerifier.MECHANISM, clientKey);
        if (!MessageDigest.isEqual(stored, verifier.storedKey())) {
            throw new AuthenticationFailure("wrong password");
        }
        byte[] serverSignature = ScramFunctions.serverSignature(ScramVerifier.MECHANISM, verifier.serverKey(), authMessage);
        return "v=" + Base64.getEncoder().encodeToString(serverSignature);
    }
}
