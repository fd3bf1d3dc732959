package io.tandem.server.kafka.security;

import io.tandem.kafka.wire.ApiKey;
import io.tandem.kafka.wire.Errors;
import io.tandem.kafka.wire.message.SaslAuthenticateResponse;
import io.tandem.kafka.wire.message.SaslHandshakeResponse;

import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * One connection's SASL authentication, the state machine of Kafka's SaslServerAuthenticator: ApiVersions (at most
 * once) or SaslHandshake first; then, after a v1 handshake, SaslAuthenticate requests carry the tokens, and after a
 * v0 handshake the tokens come raw (a 4-byte size and the bytes, no request header) as Kafka's oldest clients send
 * them. Any other request before authentication completes closes the connection, as in Kafka: at once before the
 * token exchange, and after the failed-authentication delay once it began, with the request's own error response
 * first ({@link IllegalSaslStateAnswers}).
 *
 * <p>Re-authentication (KIP-368), as Kafka's KafkaChannel and SaslServerAuthenticator do it: a completed exchange has
 * a session lifetime, the smaller of connections.max.reauth.ms (when above 0) and what is left of the credential's
 * own lifetime (an OAUTHBEARER token's expiry), answered in SaslAuthenticate's session_lifetime_ms. A SaslHandshake
 * on an authenticated connection whose session has a lifetime starts a re-authentication (at most one a second; else
 * the handshake is answered ILLEGAL_SASL_STATE as without re-authentication); it must use the same mechanism and end
 * with the same principal, or it fails and the connection closes. A session past its expiry closes the connection
 * on its next request other than a SaslHandshake ({@link #sessionExpired}).
 *
 * <p>The network layer asks {@link #admit} and {@link #beginReauthentication} on its event loop and runs
 * {@link #handshake}, {@link #authenticate} and {@link #rawToken} on a request-handler thread (a SCRAM token reads
 * ZooKeeper); one request at a time, so no request of the connection is in hand while a re-authentication runs.
 */
public final class SaslAuthenticator {
    /** Kafka's KafkaChannel.MIN_REAUTH_INTERVAL_ONE_SECOND_NANOS: re-authentications start at most once a second. */
    static final long REAUTH_INTERVAL_NANOS_MIN = TimeUnit.SECONDS.toNanos(1);

    private enum State { HANDSHAKE_OR_VERSIONS, HANDSHAKE, AUTHENTICATE, REAUTH_BAD_MECHANISM, COMPLETE, FAILED }

    /**
     * An answer and whether the connection closes once it is written (a failed or refused exchange); a null answer
     * closes the connection at once without one ({@link SaslFailure#unanswered}).
     */
    public record Step<T>(T response, boolean closeAfter) {
    }

    private final SaslSettings settings;
    private final LongSupplier wallClockMs;
    private final LongSupplier nanoClock;
    private volatile State state = State.HANDSHAKE_OR_VERSIONS;
    private volatile boolean rawTokens;
    private volatile String mechanismName;
    private SaslMechanismServer mechanism;
    private volatile String user;
    /** Why the completed session has no principal (an unmapped Kerberos principal), null when it has one. */
    private volatile String principalFailure;
    /** Whether the session was authenticated with a delegation token. */
    private volatile boolean tokenAuthenticated;
    /** Why the exchange failed, for the broker's log (the client only gets Kafka's message). */
    private volatile String failureReason;
    /** The session lifetime computed when the last exchange completed (0: none). */
    private volatile long sessionLifetimeMs;
    /** When the authenticated session expires (System.nanoTime()), null when it never does. */
    private volatile Long sessionExpiryNanos;
    /** When the last re-authentication started (System.nanoTime()), 0 before any. */
    private volatile long lastReauthStartNanos;
    /** During a re-authentication: the mechanism and user of the session being renewed; null otherwise. */
    private volatile String previousMechanism;
    private volatile String previousUser;

    public SaslAuthenticator(SaslSettings settings) {
        this(settings, System::currentTimeMillis, System::nanoTime);
    }

    SaslAuthenticator(SaslSettings settings, LongSupplier wallClockMs, LongSupplier nanoClock) {
        this.settings = settings;
        this.wallClockMs = wallClockMs;
        this.nanoClock = nanoClock;
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

    /** Whether the session was authenticated with a delegation token (Kafka's KafkaPrincipal.tokenAuthenticated). */
    public boolean tokenAuthenticated() {
        return isComplete() && tokenAuthenticated;
    }

    public int receiveBytesMax() {
        return settings.receiveBytesMax();
    }

    private boolean reauthenticating() {
        return previousMechanism != null;
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
        if (s == State.REAUTH_BAD_MECHANISM) return badMechanismMessage();
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

    /**
     * A SaslHandshake came on an authenticated connection: starts a re-authentication and answers true when the
     * session has a lifetime and the last re-authentication began at least a second ago (Kafka's
     * KafkaChannel.maybeBeginServerReauthentication); false leaves the handshake to be answered ILLEGAL_SASL_STATE.
     */
    public boolean beginReauthentication() {
        if (state != State.COMPLETE || sessionExpiryNanos == null) return false;
        long now = nanoClock.getAsLong();
        if (lastReauthStartNanos != 0 && now - lastReauthStartNanos < REAUTH_INTERVAL_NANOS_MIN) return false;
        lastReauthStartNanos = now;
        previousMechanism = mechanismName;
        previousUser = user;
        rawTokens = false;
        state = State.HANDSHAKE;
        return true;
    }

    /** Whether the authenticated session is past its expiry: Kafka then closes the connection. */
    public boolean sessionExpired() {
        Long expiry = sessionExpiryNanos;
        return state == State.COMPLETE && expiry != null && nanoClock.getAsLong() - expiry > 0;
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
        rawTokens = version == 0;
        if (reauthenticating() && !previousMechanism.equals(requested)) {
            // Kafka answers the handshake as accepted and fails on the next token, without an answer.
            mechanismName = requested;
            state = State.REAUTH_BAD_MECHANISM;
            return new Step<>(response.setErrorCode(Errors.NONE.code()), false);
        }
        mechanism = server;
        mechanismName = requested;
        state = State.AUTHENTICATE;
        return new Step<>(response.setErrorCode(Errors.NONE.code()), false);
    }

    /**
     * Whether the token exchange has begun after a v1 handshake: a request other than SaslAuthenticate is then, in
     * Kafka, an authentication failure (IllegalSaslStateException: its own error response, then the close, both
     * delayed by connection.failed.authentication.delay.ms) rather than an invalid request closed at once.
     */
    public boolean exchanging() {
        return state == State.AUTHENTICATE && !rawTokens;
    }

    /** A token after a re-authentication's handshake asked for another mechanism: why the connection closes. */
    public boolean failsWithoutAnswer() {
        return state == State.REAUTH_BAD_MECHANISM;
    }

    private String badMechanismMessage() {
        return "SASL mechanism '" + mechanismName + "' requested by client is not supported for re-authentication "
                + "of mechanism '" + previousMechanism + "'";
    }

    /** SaslAuthenticate: one token of the exchange. A failure is answered with Kafka's message, then closes. */
    public Step<SaslAuthenticateResponse> authenticate(byte[] token) {
        SaslAuthenticateResponse response = new SaslAuthenticateResponse().setSessionLifetimeMs(0);
        try {
            byte[] challenge = evaluate(token);
            long lifetimeMs = state == State.COMPLETE ? sessionLifetimeMs : 0;
            return new Step<>(response.setErrorCode(Errors.NONE.code()).setAuthBytes(challenge)
                    .setSessionLifetimeMs(lifetimeMs), false);
        } catch (SaslFailure e) {
            if (!e.answered()) return new Step<>(null, true);
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
                String authenticated = mechanism.authorizationId();
                String noPrincipal = mechanism.principalFailure();
                if (noPrincipal != null && reauthenticating()) {
                    // Kafka builds the new principal at once to compare it with the old one; the principal builder's
                    // KafkaException is no SASL failure, so the connection closes without an answer.
                    throw SaslFailure.unanswered(noPrincipal);
                }
                principalFailure = noPrincipal;
                if (noPrincipal == null && reauthenticating() && !previousUser.equals(authenticated)) {
                    throw SaslFailure.told("Cannot change principals during re-authentication from User."
                            + previousUser + ": User." + authenticated);
                }
                tokenAuthenticated = mechanism.tokenAuthenticated();
                completed(authenticated, mechanism.credentialExpiryMs());
            }
            return challenge;
        } catch (SaslFailure e) {
            state = State.FAILED;
            mechanism = null;
            failureReason = e.getMessage();
            throw e;
        }
    }

    /** Kafka's ReauthInfo.calcCompletionTimesAndReturnSessionLifetimeMs, then the session is in force. */
    private void completed(String authenticated, Long credentialExpiryMs) {
        long nowMs = wallClockMs.getAsLong();
        long nowNanos = nanoClock.getAsLong();
        long reauthMs = settings.reauthMs(mechanismName);
        boolean reauthSet = reauthMs > 0;
        long lifetimeMs = 0;
        Long expiryNanos = null;
        if (credentialExpiryMs != null || reauthSet) {
            if (credentialExpiryMs == null) lifetimeMs = reauthMs;
            else if (!reauthSet) lifetimeMs = Math.max(0, credentialExpiryMs - nowMs);
            else lifetimeMs = Math.max(0, Math.min(credentialExpiryMs - nowMs, reauthMs));
            expiryNanos = nowNanos + TimeUnit.MILLISECONDS.toNanos(lifetimeMs);
        }
        sessionLifetimeMs = lifetimeMs;
        sessionExpiryNanos = expiryNanos;
        user = authenticated;
        mechanism = null;
        previousMechanism = null;
        previousUser = null;
        state = State.COMPLETE;
    }

    /**
     * Why the authenticated session has no principal (a Kerberos principal no principal-to-local rule names), null
     * when it has one: Kafka's SocketServer fails the connection when it builds the principal of its first request
     * after authentication, and so does the network layer here.
     */
    public String principalFailure() {
        return isComplete() ? principalFailure : null;
    }

    /** Why the exchange failed (for the log), null unless it did. */
    public String failureReason() {
        return failureReason;
    }

    /** What Kafka's SaslServerAuthenticator tells the client about a failure. */
    public String clientMessage(SaslFailure failure) {
        return failure.clientMessage() != null ? failure.clientMessage()
                : "Authentication failed during " + (reauthenticating() ? "re-authentication" : "authentication")
                + " due to invalid credentials with SASL mechanism " + mechanismName;
    }
}
