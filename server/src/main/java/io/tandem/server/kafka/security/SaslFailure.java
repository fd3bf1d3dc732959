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
    private final boolean answered;

    private SaslFailure(String logMessage, String clientMessage, boolean answered) {
        super(logMessage);
        this.clientMessage = clientMessage;
        this.answered = answered;
    }

    /** A failure whose message the client sees as it is. */
    public static SaslFailure told(String message) {
        return new SaslFailure(message, message, true);
    }

    /** A failure the client learns only as "invalid credentials"; the reason goes to the log. */
    public static SaslFailure hidden(String reason) {
        return new SaslFailure(reason, null, true);
    }

    /**
     * A failure Kafka never answers: an exception other than a SASL one leaves its SaslServerAuthenticator (the
     * principal builder's KafkaException when no principal-to-local rule names a re-authenticated principal), and
     * its Selector closes the connection at once, without the failed-authentication delay.
     */
    public static SaslFailure unanswered(String reason) {
        return new SaslFailure(reason, null, false);
    }

    /** Whether the client gets a SaslAuthenticate answer before the close. */
    public boolean answered() {
        return answered;
    }

    public String clientMessage() {
        return clientMessage;
    }
}
