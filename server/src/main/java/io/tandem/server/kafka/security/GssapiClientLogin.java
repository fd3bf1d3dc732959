package io.tandem.server.kafka.security;

import io.tandem.server.kerberos.GssapiServers;
import io.tandem.server.kerberos.KerberosClientLogin;
import io.tandem.server.kerberos.KerberosLogin;
import io.tandem.server.kerberos.KerberosName;
import io.tandem.server.kerberos.PrincipalToLocalRules;

import java.lang.System.Logger.Level;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;
import javax.security.auth.Subject;
import javax.security.sasl.SaslClient;

/**
 * This broker's Kerberos login for its connections to other brokers ({@code sasl.mechanism.inter.broker.protocol=
 * GSSAPI}), as Kafka 3.9's broker makes it: the inter-broker listener's Krb5LoginModule entry (the same
 * {@code listener.name.<l>.gssapi.sasl.jaas.config} or JAAS {@code KafkaServer} section, so the same keytab, its
 * listener accepts tickets with), the service name the other brokers serve ({@code sasl.kerberos.service.name} or
 * the module's {@code serviceName}), and the short name the other brokers see it as (the principal-to-local rules).
 *
 * <p>Unlike an acceptor, an initiator needs a ticket-granting ticket, which expires. Kafka's KerberosLogin thread
 * logs in again from the keytab once 80% of the ticket's life has passed (sasl.kerberos.ticket.renew.window.factor's
 * default), no sooner than a minute after the last login (sasl.kerberos.min.time.before.relogin's default); here the
 * same check runs when an exchange starts, on the GSSAPI token thread, so a login is always fresh when it is used.
 */
final class GssapiClientLogin {
    private static final System.Logger LOG = System.getLogger(GssapiClientLogin.class.getName());
    static final long RELOGIN_MS_MIN = KerberosClientLogin.RELOGIN_MS_MIN;

    private final String name;
    private final Map<String, String> options;
    private final String serviceName;
    private final String shortName;
    private Subject subject;
    private long loginMs;

    private GssapiClientLogin(String name, Map<String, String> options, String serviceName, Subject subject,
                              String shortName) {
        this.name = name;
        this.options = options;
        this.serviceName = serviceName;
        this.subject = subject;
        this.shortName = shortName;
        this.loginMs = System.currentTimeMillis();
    }

    /**
     * Logs in now (start-up) from the listener's GSSAPI login module; IllegalArgumentException names what cannot be
     * honoured (no or another login module, no or conflicting service names, a rule that does not parse, a failed
     * login, a principal no rule maps).
     */
    static GssapiClientLogin build(String listenerName, Map<String, String> settings,
                                   Function<String, String> setting) {
        JaasLoginModule module = JaasLoginModule.find(listenerName, GssapiServers.MECHANISM, settings);
        String key = ListenerSecurity.jaasConfigKey(listenerName, GssapiServers.MECHANISM);
        if (module == null) {
            throw new IllegalArgumentException("no Kerberos login for this broker's connections to other brokers: "
                    + "set " + key + " (or a KafkaServer section in the JAAS file)");
        }
        if (!module.className().equals(KerberosLogin.KRB5_LOGIN_MODULE)) {
            throw new IllegalArgumentException("login module " + module.className() + " for GSSAPI between brokers "
                    + "is not implemented (only " + KerberosLogin.KRB5_LOGIN_MODULE + ")");
        }
        String serviceName = GssapiSettings.serviceName(module, setting);
        PrincipalToLocalRules rules = GssapiSettings.rules(setting);
        String name = "GSSAPI between brokers on listener " + listenerName;
        Subject subject = KerberosLogin.login(name, module.options());
        String principal = KerberosLogin.principal(subject);
        String shortName;
        try {
            shortName = rules.shortName(KerberosName.parse(principal));
        } catch (PrincipalToLocalRules.NoMatchingRule | IllegalArgumentException e) {
            throw new IllegalArgumentException("this broker's Kerberos principal " + principal + " has no short name "
                    + "under sasl.kerberos.principal.to.local.rules, so other brokers could not accept it", e);
        }
        return new GssapiClientLogin(name, module.options(), serviceName, subject, shortName);
    }

    /**
     * A Kafka client's login from its own {@code sasl.jaas.config} (a {@code --command-config} file of Tandem's
     * command line), logged in now: no listener, and no short name, which only brokers check.
     */
    static GssapiClientLogin forClient(JaasLoginModule module, String serviceName) {
        String name = "GSSAPI (sasl.jaas.config)";
        Subject subject = KerberosLogin.login(name, module.options());
        String principal = KerberosLogin.principal(subject);
        return new GssapiClientLogin(name, module.options(), serviceName, subject, principal);
    }

    String serviceName() {
        return serviceName;
    }

    /** The name other brokers give this one ({@code User:<shortName>}), for super.users checks and logs. */
    String shortName() {
        return shortName;
    }

    /** A new client per connection, for the host dialled. */
    Function<String, SaslClient> clients() {
        return host -> new GssapiClient(this, host.toLowerCase(Locale.ROOT));
    }

    /**
     * The login to start an exchange with, logged in again first when its ticket-granting ticket is in the last part
     * of its life; called on the GSSAPI token thread (a re-login asks the KDC).
     */
    synchronized Subject subject() {
        long now = System.currentTimeMillis();
        if (now - loginMs >= RELOGIN_MS_MIN && dueForRenewal(subject, now)) {
            try {
                subject = KerberosLogin.login(name, options);
                loginMs = now;
            } catch (IllegalArgumentException e) {
                // The old ticket may still be good for a while; the exchange will say so if it is not.
                LOG.log(Level.WARNING, "renewing the Kerberos login of {0} failed: {1}", name, e.getMessage());
            }
        }
        return subject;
    }

    /** True when the login has no ticket-granting ticket or has passed the renewal point of its life. */
    static boolean dueForRenewal(Subject login, long nowMs) {
        return KerberosClientLogin.dueForRenewal(login, nowMs);
    }
}
