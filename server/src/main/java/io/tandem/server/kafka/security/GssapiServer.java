package io.tandem.server.kafka.security;

import io.tandem.server.kerberos.GssapiServers;
import io.tandem.server.kerberos.KerberosName;
import io.tandem.server.kerberos.PrincipalToLocalRules;
import java.util.Map;
import javax.security.auth.callback.Callback;
import javax.security.auth.callback.UnsupportedCallbackException;
import javax.security.sasl.AuthorizeCallback;
import javax.security.sasl.SaslException;
import javax.security.sasl.SaslServer;

/**
 * SASL GSSAPI (Kerberos) for one connection: the JDK's GSSAPI SaslServer created as the broker's Kerberos login
 * (Kafka's SaslServerAuthenticator.createSaslKerberosServer), authorizing every authenticated client as itself
 * (Kafka's SaslServerCallbackHandler), and naming it as Kafka's DefaultKafkaPrincipalBuilder does: the short name
 * the principal-to-local rules give its Kerberos principal. Every failure of the exchange reaches the client only as
 * Kafka's "invalid credentials" words; the JDK's reason goes to the broker's log. A principal no rule names is no
 * failure of the exchange, as in Kafka (its SaslServerCallbackHandler authorizes every authenticated client; the
 * short name is made later, by DefaultKafkaPrincipalBuilder): the exchange completes and {@link #principalFailure}
 * says why the connection has no principal.
 */
final class GssapiServer implements SaslMechanismServer {
    private final GssapiSettings settings;
    /** Created with the first token, so a failure to create it fails that exchange only. */
    private SaslServer server;
    private String user;
    private String principalFailure;

    GssapiServer(GssapiSettings settings) {
        this.settings = settings;
    }

    @Override
    public byte[] evaluate(byte[] response) throws SaslFailure {
        if (isComplete()) throw SaslFailure.hidden("GSSAPI exchange is already complete");
        boolean done = false;
        try {
            if (server == null) {
                server = GssapiServers.create(settings.login().subject(), Map.of(), GssapiServer::authorize);
            }
            byte[] challenge = server.evaluateResponse(response);
            if (server.isComplete()) {
                done = true;
                shortName(server.getAuthorizationID());
            }
            return challenge == null ? new byte[0] : challenge;
        } catch (SaslException e) {
            done = true;
            throw SaslFailure.hidden("GSSAPI: " + e.getMessage()
                    + (e.getCause() == null ? "" : " (" + e.getCause().getMessage() + ")"));
        } catch (RuntimeException e) {
            done = true;
            // The JDK's server throws unchecked exceptions on some malformed tokens; they fail this exchange only.
            throw SaslFailure.hidden("GSSAPI: malformed token: " + e);
        } finally {
            // No security layer is negotiated (QOP auth), so the security context is not needed after the exchange.
            if (done && server != null) dispose();
        }
    }

    private void dispose() {
        try {
            server.dispose();
        } catch (SaslException ignored) {
            // nothing held that outlives the exchange
        }
    }

    /** Kafka's SaslServerCallbackHandler: authorized as the authenticated principal, whatever id was asked for. */
    private static void authorize(Callback[] callbacks) throws UnsupportedCallbackException {
        for (Callback callback : callbacks) {
            if (!(callback instanceof AuthorizeCallback authorize)) throw new UnsupportedCallbackException(callback);
            authorize.setAuthorized(true);
            authorize.setAuthorizedID(authorize.getAuthenticationID());
        }
    }

    /** Kafka's DefaultKafkaPrincipalBuilder.applyKerberosShortNamer: the user, or why there is none. */
    private void shortName(String principal) {
        try {
            user = settings.rules().shortName(KerberosName.parse(principal));
        } catch (PrincipalToLocalRules.NoMatchingRule | IllegalArgumentException e) {
            principalFailure = "Failed to set name for '" + principal + "' based on Kerberos authentication rules. ("
                    + e.getMessage() + ")";
        }
    }

    @Override
    public boolean isComplete() {
        return user != null || principalFailure != null;
    }

    @Override
    public String principalFailure() {
        return principalFailure;
    }

    @Override
    public String authorizationId() {
        return user;
    }
}
