package io.tandem.server.kafka.security;

/** The server side of one SASL mechanism for one connection (javax.security.sasl.SaslServer, reduced to its use). */
interface SaslMechanismServer {
    /** Takes the client's next token and answers the challenge to send back (empty when there is nothing to say). */
    byte[] evaluate(byte[] response) throws SaslFailure;

    boolean isComplete();

    /** The authenticated user, once complete; null when {@link #principalFailure} says why there is none. */
    String authorizationId();

    /**
     * Once complete, why the authenticated client has no principal (GSSAPI: no principal-to-local rule names it),
     * null when it has one. Kafka completes such an exchange and fails the connection when it builds the principal,
     * at the first request after authentication.
     */
    default String principalFailure() {
        return null;
    }

    /**
     * When the credential the client authenticated with expires (epoch milliseconds), once complete; null when it
     * does not (Kafka's CREDENTIAL_LIFETIME_MS negotiated property: an OAUTHBEARER token's expiry, a delegation
     * token's expiry timestamp). It bounds the session's lifetime (KIP-368).
     */
    default Long credentialExpiryMs() {
        return null;
    }

    /** Whether the client authenticated with a delegation token (SCRAM's tokenauth extension), once complete. */
    default boolean tokenAuthenticated() {
        return false;
    }
}
