package io.tandem.server.kafka.security;

/**
 * A SASL exchange failed. {@link #clientMessage()} is what Kafka tells the client in the SaslAuthenticate answer:
 * the mechanism's own words where Kafka's mechanism throws a SaslAuthenticationException (PLAIN's "Invalid username
 * or password"), else null, and the authenticator then says what Kafka says for any other SaslException
 * ("Authentication failed during authentication due to invalid credentials with SASL mechanism X"). The exception
 * message itself is for the broker's log only: it may name the reason, the client never sees it.
 */
public final class SaslFailure extends Exception {
    private final String clientMessage;

    private SaslFailure(String logMessage, String clientMessage) {
        super(logMessage);
        this.clientMessage = clientMessage;
    }

    /** A failure whose message the client sees as it is. */
    public static SaslFailure told(String message) {
        return new SaslFailure(message, message);
    }

    /** A failure the client learns only as "invalid credentials"; the reason goes to the log. */
    public static SaslFailure hidden(String reason) {
        return new SaslFailure(reason, null);
    }

    public String clientMessage() {
        return clientMessage;
    }
}
