package io.tandem.server.kafka.security;

import io.tandem.server.kerberos.KerberosLogin;
import io.tandem.server.kerberos.PrincipalToLocalRules;
import io.tandem.server.kerberos.RenewalPolicy;
import io.tandem.server.kerberos.SharedLogin;
import java.util.Map;
import java.util.function.Function;

/**
 * A listener's SASL GSSAPI (Kerberos), as Kafka 3.9's SaslChannelBuilder and KerberosLogin set it up: the broker's
 * login from its Krb5LoginModule entry ({@code listener.name.<l>.gssapi.sasl.jaas.config}, else the JAAS file's
 * {@code <l>.KafkaServer} or {@code KafkaServer} section), the service name Kafka insists on
 * ({@code sasl.kerberos.service.name} or the module's {@code serviceName}, which must agree), and the
 * {@code sasl.kerberos.principal.to.local.rules} that turn a client's principal into the short name its
 * {@code User:} principal (and so its ACLs) carry.
 *
 * @param login       the broker's Kerberos login: its subject holds the service keys tickets are accepted with,
 *                    renewed as Kafka's KerberosLogin renews it ({@link #renewal}), and shared, as Kafka's
 *                    LoginManager shares it, with every other user of the same module and renewal (the broker's
 *                    client to other brokers on this listener, above all); the listener releases it when it closes
 * @param serviceName the Kerberos service name (Kafka checks it at start-up; clients must ask for it)
 * @param rules       the principal-to-local rules, DEFAULT unless configured
 */
record GssapiSettings(SharedLogin login, String serviceName, PrincipalToLocalRules rules) {
    /** Kafka's default sasl.kerberos.principal.to.local.rules. */
    static final String RULES_DEFAULT = "DEFAULT";
    static final String RENEW_WINDOW_FACTOR = "sasl.kerberos.ticket.renew.window.factor";
    static final String RENEW_JITTER = "sasl.kerberos.ticket.renew.jitter";
    static final String MIN_TIME_BEFORE_RELOGIN = "sasl.kerberos.min.time.before.relogin";

    /**
     * Reads the listener's GSSAPI settings and logs in; IllegalArgumentException names what cannot be honoured (no or
     * another login module, no service name, a rule that does not parse, a failed login).
     */
    static GssapiSettings build(String listenerName, Map<String, String> settings, Function<String, String> setting) {
        JaasLoginModule module = JaasLoginModule.find(listenerName, "GSSAPI", settings);
        String key = ListenerSecurity.jaasConfigKey(listenerName, "GSSAPI");
        if (module == null) {
            throw new IllegalArgumentException("Could not find a 'KafkaServer' or '"
                    + listenerName.toLowerCase(java.util.Locale.ROOT) + ".KafkaServer' entry in the JAAS "
                    + "configuration, nor " + key);
        }
        if (!module.className().equals(KerberosLogin.KRB5_LOGIN_MODULE)) {
            throw new IllegalArgumentException("login module " + module.className() + " for GSSAPI on listener "
                    + listenerName + " is not implemented (only " + KerberosLogin.KRB5_LOGIN_MODULE + ")");
        }
        String serviceName = serviceName(module, setting);
        PrincipalToLocalRules rules = rules(setting);
        SharedLogin login = SharedLogin.acquire("GSSAPI on listener " + listenerName, module.options(),
                renewal(setting));
        return new GssapiSettings(login, serviceName, rules);
    }

    /**
     * The Kerberos service name as Kafka's SaslChannelBuilder takes it: the login module's {@code serviceName} or
     * {@code sasl.kerberos.service.name}, which must agree when both are set; one of them must be (Kafka's words).
     */
    static String serviceName(JaasLoginModule module, Function<String, String> setting) {
        String jaasServiceName = module.options().get("serviceName");
        String configServiceName = setting.apply("sasl.kerberos.service.name");
        if (jaasServiceName != null && configServiceName != null && !jaasServiceName.equals(configServiceName)) {
            throw new IllegalArgumentException(String.format("Conflicting serviceName values found in JAAS and Kafka "
                    + "configs value in JAAS file %s, value in Kafka config %s", jaasServiceName, configServiceName));
        }
        String serviceName = jaasServiceName != null ? jaasServiceName : configServiceName;
        if (serviceName == null) {
            throw new IllegalArgumentException("No serviceName defined in either JAAS or Kafka config");
        }
        return serviceName;
    }

    /** {@code sasl.kerberos.principal.to.local.rules}, DEFAULT unless set. */
    static PrincipalToLocalRules rules(Function<String, String> setting) {
        String rulesValue = setting.apply("sasl.kerberos.principal.to.local.rules");
        return PrincipalToLocalRules.parse(KerberosLogin.defaultRealm(),
                PrincipalToLocalRules.listValue(rulesValue == null ? RULES_DEFAULT : rulesValue));
    }

    /**
     * When the listener's (or the inter-broker client's) login is renewed: Kafka's KerberosLogin keys, each under the
     * listener's prefix first, at Kafka's defaults when unset (their types were checked at start-up).
     */
    static RenewalPolicy renewal(Function<String, String> setting) {
        RenewalPolicy defaults = RenewalPolicy.KAFKA_DEFAULT;
        String window = setting.apply(RENEW_WINDOW_FACTOR);
        String jitter = setting.apply(RENEW_JITTER);
        String minTime = setting.apply(MIN_TIME_BEFORE_RELOGIN);
        return new RenewalPolicy(window == null ? defaults.windowFactor() : Double.parseDouble(window.trim()),
                jitter == null ? defaults.jitter() : Double.parseDouble(jitter.trim()),
                minTime == null ? defaults.minTimeBeforeReloginMs() : Long.parseLong(minTime.trim()));
    }
}
