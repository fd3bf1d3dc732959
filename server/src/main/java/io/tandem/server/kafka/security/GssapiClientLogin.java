package io.tandem.server.kafka.security;

import io.tandem.server.kerberos.GssapiServers;
import io.tandem.server.kerberos.KerberosLogin;
import io.tandem.server.kerberos.KerberosName;
import io.tandem.server.kerberos.PrincipalToLocalRules;
import io.tandem.server.kerberos.RenewalPolicy;
import io.tandem.server.kerberos.RenewingLogin;
import io.tandem.server.kerberos.SharedLogin;

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
 * <p>Unlike an acceptor, an initiator needs a current ticket-granting ticket for every new connection: the login is
 * renewed as Kafka's KerberosLogin renews it ({@link RenewingLogin}, with the listener's
 * sasl.kerberos.ticket.renew.* and min.time.before.relogin keys), so a broker dialling another after its first ticket
 * expired still authenticates. The broker's login is the listener's own ({@link SharedLogin}, as Kafka's broker
 * acquires one LoginManager for the listener and its inter-broker channels): one ticket-granting ticket, one KDC
 * exchange and one renewal for the principal.
 */
final class GssapiClientLogin {
    private final String serviceName;
    private final String shortName;
    /** Renewed in place by {@link RenewingLogin}. */
    private final Subject subject;
    /** The broker's handle on its shared login, released when the broker closes; null for a tool's own login. */
    private final SharedLogin shared;

    private GssapiClientLogin(String serviceName, Subject subject, String shortName, SharedLogin shared) {
        this.serviceName = serviceName;
        this.subject = subject;
        this.shortName = shortName;
        this.shared = shared;
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
        SharedLogin login = SharedLogin.acquire(name, module.options(), GssapiSettings.renewal(setting));
        String principal = KerberosLogin.principal(login.subject());
        String shortName;
        try {
            shortName = rules.shortName(KerberosName.parse(principal));
        } catch (PrincipalToLocalRules.NoMatchingRule | IllegalArgumentException e) {
            login.close();
            throw new IllegalArgumentException("this broker's Kerberos principal " + principal + " has no short name "
                    + "under sasl.kerberos.principal.to.local.rules, so other brokers could not accept it", e);
        }
        return new GssapiClientLogin(serviceName, login.subject(), shortName, login);
    }

    /**
     * A Kafka client's login from its own {@code sasl.jaas.config} (a {@code --command-config} file of Tandem's
     * command line) or the JAAS file's {@code KafkaClient} section ({@code source} names which), logged in now and
     * renewed at Kafka's defaults: no listener, and no short name, which only brokers check.
     */
    static GssapiClientLogin forClient(JaasLoginModule module, String source, String serviceName) {
        Subject subject = RenewingLogin.start("GSSAPI (" + source + ")", module.options(),
                RenewalPolicy.KAFKA_DEFAULT);
        return new GssapiClientLogin(serviceName, subject, KerberosLogin.principal(subject), null);
    }

    /** The broker's handle on its shared login, null for a tool's login (which ends with its process). */
    SharedLogin shared() {
        return shared;
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

    /** The login to start an exchange with (its tickets are kept current by {@link RenewingLogin}). */
    Subject subject() {
        return subject;
    }
}
