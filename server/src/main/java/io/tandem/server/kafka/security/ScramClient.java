package io.tandem.server.kafka.security;

import javax.security.sasl.SaslClient;
import javax.security.sasl.SaslException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The client side of SCRAM (RFC 5802, RFC 7677) as Kafka's ScramSaslClient runs it, for the broker's own connections
 * to other brokers: client-first ({@code n,,n=<user>,r=<nonce>}), the server's salt and iterations, client-final
 * with the proof, and the server's signature checked, so a peer that does not know the credential is refused too.
 * The JDK has no SCRAM client; the messages are those {@link ScramServer} reads.
 */
final class ScramClient implements SaslClient {
    private static final Pattern SERVER_FIRST = Pattern.compile(
            "(?:m=[^,]*,)?r=(?<nonce>[\\x21-\\x7E&&[^,]]+),s=(?<salt>[a-zA-Z0-9/+]*={0,2}),i=(?<iterations>\\d+)(?:,.*)?");
    private static final Pattern SERVER_FINAL = Pattern.compile("(?:e=(?<error>[^,]*)|v=(?<signature>[a-zA-Z0-9/+]*={0,2}))(?:,.*)?");
    private static final String GS2_HEADER = "n,,";
    private static final SecureRandom RANDOM = new SecureRandom();

    private enum State { CLIENT_FIRST, SERVER_FIRST, SERVER_FINAL, COMPLETE, FAILED }

    private final ScramMechanism mechanism;
    private final String username;
    private final String password;
    private State state = State.CLIENT_FIRST;
    private String clientNonce;
    private String clientFirstBare;
    private byte[] expectedServerSignature;

    ScramClient(ScramMechanism mechanism, String username, String password) {
        this.mechanism = mechanism;
        this.username = username;
        this.password = password;
    }

    @Override
    public String getMechanismName() {
        return mechanism.mechanismName();
    }

    @Override
    public boolean hasInitialResponse() {
        return true;
    }

    @Override
    public byte[] evaluateChallenge(byte[] challenge) throws SaslException {
        try {
            return switch (state) {
                case CLIENT_FIRST -> clientFirst();
                case SERVER_FIRST -> clientFinal(new String(challenge, StandardCharsets.UTF_8));
                case SERVER_FINAL -> serverFinal(new String(challenge, StandardCharsets.UTF_8));
                default -> throw new SaslException("Unexpected challenge in SCRAM state " + state);
            };
        } catch (SaslException e) {
            state = State.FAILED;
            throw e;
        }
    }

    private byte[] clientFirst() {
        byte[] nonce = new byte[24];
        RANDOM.nextBytes(nonce);
        clientNonce = Base64.getUrlEncoder().withoutPadding().encodeToString(nonce);
        clientFirstBare = "n=" + username.replace("=", "=3D").replace(",", "=2C") + ",r=" + clientNonce;
        state = State.SERVER_FIRST;
        return (GS2_HEADER + clientFirstBare).getBytes(StandardCharsets.UTF_8);
    }

    private byte[] clientFinal(String serverFirst) throws SaslException {
        Matcher m = SERVER_FIRST.matcher(serverFirst);
        if (!m.matches()) throw new SaslException("Invalid SCRAM server first message format");
        String nonce = m.group("nonce");
        if (!nonce.startsWith(clientNonce)) throw new SaslException("Invalid server nonce: does not start with client nonce");
        int iterations = Integer.parseInt(m.group("iterations"));
        if (iterations < ScramMechanism.ITERATIONS_MIN) {
            throw new SaslException("Requested iterations " + iterations + " is less than the minimum "
                    + ScramMechanism.ITERATIONS_MIN + " for " + mechanism.mechanismName());
        }
        byte[] salt = Base64.getDecoder().decode(m.group("salt"));
        byte[] saltedPassword = mechanism.saltedPassword(password.getBytes(StandardCharsets.UTF_8), salt, iterations);
        String withoutProof = "c=" + Base64.getEncoder().encodeToString(GS2_HEADER.getBytes(StandardCharsets.UTF_8))
                + ",r=" + nonce;
        byte[] authMessage = (clientFirstBare + "," + serverFirst + "," + withoutProof).getBytes(StandardCharsets.UTF_8);
        byte[] clientKey = mechanism.hmac(saltedPassword, "Client Key".getBytes(StandardCharsets.US_ASCII));
        byte[] clientSignature = mechanism.hmac(mechanism.hash(clientKey), authMessage);
        byte[] proof = new byte[clientKey.length];
        for (int i = 0; i < proof.length; i++) proof[i] = (byte) (clientKey[i] ^ clientSignature[i]);
        byte[] serverKey = mechanism.hmac(saltedPassword, "Server Key".getBytes(StandardCharsets.US_ASCII));
        expectedServerSignature = mechanism.hmac(serverKey, authMessage);
        state = State.SERVER_FINAL;
        return (withoutProof + ",p=" + Base64.getEncoder().encodeToString(proof)).getBytes(StandardCharsets.UTF_8);
    }

    private byte[] serverFinal(String serverFinal) throws SaslException {
        Matcher m = SERVER_FINAL.matcher(serverFinal);
        if (!m.matches()) throw new SaslException("Invalid SCRAM server final message format");
        if (m.group("error") != null) throw new SaslException("Sasl authentication using " + getMechanismName()
                + " failed with error: " + m.group("error"));
        byte[] signature = Base64.getDecoder().decode(m.group("signature"));
        if (!MessageDigest.isEqual(signature, expectedServerSignature)) {
            throw new SaslException("Invalid server signature in server final message");
        }
        state = State.COMPLETE;
        return null;
    }

    @Override
    public boolean isComplete() {
        return state == State.COMPLETE;
    }

    @Override
    public byte[] unwrap(byte[] incoming, int offset, int len) {
        throw new IllegalStateException("SCRAM offers no security layer");
    }

    @Override
    public byte[] wrap(byte[] outgoing, int offset, int len) {
        throw new IllegalStateException("SCRAM offers no security layer");
    }

    @Override
    public Object getNegotiatedProperty(String propName) {
        return null;
    }

    @Override
    public void dispose() {
        expectedServerSignature = null;
    }
}
