package io.tandem.server.kafka.security;

import io.tandem.kafka.wire.ApiKey;
import io.tandem.kafka.wire.Errors;
import io.tandem.kafka.wire.message.SaslAuthenticateResponse;
import io.tandem.kafka.wire.message.SaslHandshakeResponse;

/**
 * One connection's SASL authentication, the state machine of Kafka's SaslServerAuthenticator: ApiVersions (at most
 * once) or SaslHandshake first; then, after a v1 handshake, SaslAuthenticate requests carry the tokens, and after a
 * v0 handshake the tokens come raw (a 4-byte size and the bytes, no request header) as Kafka's oldest clients send
 * them. Any other request before authentication completes closes the connection, as in Kafka. Re-authentication
 * (KIP-368) is not implemented: connections.max.reauth.ms is refused above 0, so the session lifetime is 0.
 * The network layer asks {@link #admit} on its event loop and runs {@link #handshake}, {@link #authenticate} and
 * {@link #rawToken} on a request-handler thread (a SCRAM token reads ZooKeeper); one request at a time.
 */
public final class SaslAuthenticator {
    private enum State { HANDSHAKE_OR_VERSIONS, HANDSHAKE, AUTHENTICATE, COMPLETE, FAILED }

    /** An answer and whether the connection closes once it is written (a failed or refused exchange). */
    public record Step<T>(T response, boolean closeAfter) {
    }

    private final SaslSettings settings;
    private volatile State state = State.HANDSHAKE_OR_VERSIONS;
    private volatile boolean rawTokens;
    private volatile String mechanismName;
    private SaslMechanismServer mechanism;
    private volatile String user;
    /** Why the exchange failed, for the broker's log (the client only gets Kafka's message). */
    private volatile String failureReason;

    public SaslAuthenticator(SaslSettings settings) {
        this.settings = settings;
    }

    public boolean isComplete() {
        return state == State.COMPLETE;
    }

    /** After a v0 handshake, the next frames are raw SASL tokens. */
    public boolean expectsRawToken() {
        return rawTokens && state == State.AUTHENTICATE;
    }

    /** The authenticated user ("User:" + this is Kafka's principal), null before. */
    public String user() {
        return user;
    }

    public int receiveBytesMax() {
        return settings.receiveBytesMax();
    }

    /**
     * Whether a request of this key may come now: null if so, else why the connection closes (Kafka's
     * IllegalSaslStateException words). Changes nothing; see {@link #admit}.
     */
    public String refusal(ApiKey key) {
        State s = state;
        if (s == State.HANDSHAKE_OR_VERSIONS && key == ApiKey.API_VERSIONS) return null;
        if ((s == State.HANDSHAKE_OR_VERSIONS || s == State.HANDSHAKE) && key == ApiKey.SASL_HANDSHAKE) return null;
        if (s == State.AUTHENTICATE && !rawTokens && key == ApiKey.SASL_AUTHENTICATE) return null;
        String name = key == null ? "unknown" : key.apiName();
        return s == State.AUTHENTICATE ? "Unexpected Kafka request of type " + name + " during SASL authentication."
                : "Unexpected Kafka request of type " + name + " during SASL handshake.";
    }

    /** As {@link #refusal}, and takes the request: an ApiVersions is admitted once, before the handshake. */
    public String admit(ApiKey key) {
        String refusal = refusal(key);
        if (refusal != null) {
            state = State.FAILED;
        } else if (key == ApiKey.API_VERSIONS) {
            state = State.HANDSHAKE;
        }
        return refusal;
    }

    /** SaslHandshake: picks the mechanism; an unknown one is answered with the enabled list, then the connection closes. */
    public Step<SaslHandshakeResponse> handshake(String requested, short version) {
        SaslHandshakeResponse response = new SaslHandshakeResponse()
                .setMechanisms(new java.util.ArrayList<>(settings.enabledMechanisms()));
        SaslMechanismServer server = settings.newServer(requested);
        if (server == null) {
            state = State.FAILED;
            return new Step<>(response.setErrorCode(Errors.UNSUPPORTED_SASL_MECHANISM.code()), true);
        }
        mechanism = server;
        mechanismName = requested;
        rawTokens = version == 0;
        state = State.AUTHENTICATE;
        return new Step<>(response.setErrorCode(Errors.NONE.code()), false);
    }

    /** SaslAuthenticate: one token of the exchange. A failure is answered with Kafka's message, then closes. */
    public Step<SaslAuthenticateResponse> authenticate(byte[] token) {
        SaslAuthenticateResponse response = new SaslAuthenticateResponse().setSessionLifetimeMs(0);
        try {
            byte[] challenge = evaluate(token);
            return new Step<>(response.setErrorCode(Errors.NONE.code()).setAuthBytes(challenge), false);
        } catch (SaslFailure e) {
            return new Step<>(response.setErrorCode(Errors.SASL_AUTHENTICATION_FAILED.code())
                    .setErrorMessage(clientMessage(e)).setAuthBytes(new byte[0]), true);
        }
    }

    /** A raw token after a v0 handshake: the challenge to send back raw; a failure closes without an answer. */
    public byte[] rawToken(byte[] token) throws SaslFailure {
        return evaluate(token);
    }

    private byte[] evaluate(byte[] token) throws SaslFailure {
        try {
            byte[] challenge = mechanism.evaluate(token);
            if (mechanism.isComplete()) {
                user = mechanism.authorizationId();
                mechanism = null;
                state = State.COMPLETE;
            }
            return challenge;
        } catch (SaslFailure e) {
            state = State.FAILED;
            mechanism = null;
            failureReason = e.getMessage();
            throw e;
        }
    }

    /** Why the exchange failed (for the log), null unless it did. */
    public String failureReason() {
        return failureReason;
    }

    /** What Kafka's SaslServerAuthenticator tells the client about a failure. */
    public String clientMessage(SaslFailure failure) {
        return failure.clientMessage() != null ? failure.clientMessage()
                : "Authentication failed during authentication due to invalid credentials with SASL mechanism "
                + mechanismName;
    }
}
