package io.tandem.server.kerberos;

import java.security.PrivilegedActionException;
import java.security.PrivilegedExceptionAction;
import java.util.Map;
import javax.security.auth.Subject;
import javax.security.auth.callback.CallbackHandler;
import javax.security.sasl.Sasl;
import javax.security.sasl.SaslException;
import javax.security.sasl.SaslServer;

/**
 * The JDK's GSSAPI SaslServer for one exchange, created as Kafka's SaslServerAuthenticator and ZooKeeper's
 * ZooKeeperSaslServer create it: as the server's Kerberos login ({@code Subject.doAs}, so the JDK finds the
 * service's keys in the subject), for the service and host of the login's own principal ({@code service/host@REALM}).
 * The tokens are then evaluated outside the subject: the acceptor's credentials were bound when it was created.
 */
public final class GssapiServers {
    public static final String MECHANISM = "GSSAPI";

    private GssapiServers() {
    }

    /**
     * A new server for one client; {@code callbacks} gets the AuthorizeCallback that names the authorized id.
     * SaslException when the JDK cannot create it (the login's principal has no keys for its own name, say).
     */
    @SuppressWarnings("removal") // Subject.doAs is how the JDK 17 GSS acceptor finds the subject's credentials
    public static SaslServer create(Subject login, Map<String, ?> properties, CallbackHandler callbacks)
            throws SaslException {
        String principal = KerberosLogin.principal(login);
        KerberosName name;
        try {
            name = KerberosName.parse(principal);
        } catch (IllegalArgumentException e) {
            throw new SaslException("Principal has name with unexpected format " + principal);
        }
        try {
            SaslServer server = Subject.doAs(login, (PrivilegedExceptionAction<SaslServer>) () ->
                    Sasl.createSaslServer(MECHANISM, name.serviceName(), name.hostName(), properties, callbacks));
            if (server == null) throw new SaslException("the JDK offers no " + MECHANISM + " SaslServer");
            return server;
        } catch (PrivilegedActionException e) {
            throw new SaslException("failed to create a SaslServer to interact with a client during session "
                    + "authentication", e.getCause());
        }
    }
}
