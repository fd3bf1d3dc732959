package io.tandem.server.kafka.security;

import io.tandem.kafka.client.ClientSecurity;
import io.tandem.server.kerberos.GssapiServers;
import io.tandem.server.kerberos.KerberosLogin;

import javax.net.ssl.SSLContext;
import javax.security.sasl.SaslClient;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

/**
 * A Kafka client's security settings (the properties a {@code client.properties} / {@code --command-config} file
 * holds for Kafka's own tools) turned into the {@link ClientSecurity} Tandem's wire client uses: security.protocol,
 * the ssl.* stores and checks, sasl.mechanism and sasl.jaas.config (PLAIN, SCRAM, OAUTHBEARER with Kafka's unsecured
 * login, and GSSAPI with a Krb5LoginModule login, logged in when the properties are read, and
 * {@code sasl.kerberos.service.name}); without sasl.jaas.config, as Kafka's clients, the {@code KafkaClient} section
 * of the JVM's JAAS file ({@code -Djava.security.auth.login.config}, for the CLI in {@code TANDEM_CLI_JAVA_OPTS}).
 * What Tandem's client cannot do is refused with an IllegalArgumentException naming the setting, never ignored: a
 * client told to use TLS or SASL never falls back to plaintext.
 */
public final class ClientSecurityConfig {
    /** Kafka's client default for sasl.mechanism. */
    private static final String MECHANISM_DEFAULT = "GSSAPI";
    private static final Set<String> PROTOCOLS = Set.of("PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL");
    /** The mechanisms this client implements. */
    private static final Set<String> MECHANISMS = Set.of("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512", "OAUTHBEARER",
            GssapiServers.MECHANISM);

    private ClientSecurityConfig() {
    }

    /** The security the properties ask for; PLAINTEXT when they name none. */
    public static ClientSecurity fromClientProperties(Map<String, String> properties) {
        Function<String, String> setting = key -> {
            String value = properties.get(key);
            return value == null || value.isBlank() ? null : value.trim();
        };
        String protocol = orDefault(setting.apply("security.protocol"), "PLAINTEXT").toUpperCase(Locale.ROOT);
        if (!PROTOCOLS.contains(protocol)) {
            throw new IllegalArgumentException("security.protocol " + protocol + " is not one of " + PROTOCOLS);
        }
        boolean tls = protocol.equals("SSL") || protocol.equals("SASL_SSL");
        boolean sasl = protocol.startsWith("SASL_");
        if (!tls && !sasl) return ClientSecurity.PLAINTEXT;
        SSLContext context = null;
        List<String> protocols = List.of();
        List<String> ciphers = List.of();
        boolean verifyHostname = false;
        if (tls) {
            context = SslContexts.client(setting);
            protocols = SslContexts.enabledProtocols(setting);
            ciphers = SslContexts.cipherSuites(setting);
            verifyHostname = InterBrokerSecurity.endpointIdentification(
                    setting.apply("ssl.endpoint.identification.algorithm"));
        }
        Function<String, SaslClient> saslClient = sasl ? saslClient(setting) : null;
        return new ClientSecurity(context, protocols, ciphers, verifyHostname, saslClient);
    }

    private static Function<String, SaslClient> saslClient(Function<String, String> setting) {
        String configured = setting.apply("sasl.mechanism");
        String mechanism = orDefault(configured, MECHANISM_DEFAULT).toUpperCase(Locale.ROOT);
        if (!MECHANISMS.contains(mechanism)) {
            throw new IllegalArgumentException("sasl.mechanism " + mechanism + (configured == null
                    ? " (Kafka's default)" : "") + " is not implemented by this client: use one of " + MECHANISMS);
        }
        String jaas = setting.apply("sasl.jaas.config");
        // Kafka's JaasContext.loadClientContext: the property, else the KafkaClient section of the JVM's JAAS file.
        JaasLoginModule module;
        if (jaas != null) {
            module = JaasLoginModule.parse(jaas);
        } else {
            try {
                module = JaasLoginModule.clientSection();
            } catch (IllegalArgumentException e) {
                if (configured != null) throw e;
                throw new IllegalArgumentException(e.getMessage() + "; sasl.mechanism is Kafka's default, "
                        + mechanism, e);
            }
        }
        String source = jaas != null ? "sasl.jaas.config" : "the JAAS section " + JaasLoginModule.CLIENT_SECTION;
        if (mechanism.equals(GssapiServers.MECHANISM)) return gssapiClient(module, source, setting);
        String expected = JaasLoginModule.moduleFor(mechanism);
        if (!module.className().equals(expected)) {
            throw new IllegalArgumentException(source + " names " + module.className() + ", but SASL "
                    + mechanism + " logs in with " + expected);
        }
        if (mechanism.equals("OAUTHBEARER")) {
            Map<String, String> options = module.options();
            OAuthBearerClient.unsecuredToken(options, 0); // refuses options that name no principal now
            return host -> new OAuthBearerClient(options, System::currentTimeMillis);
        }
        if (Boolean.parseBoolean(module.options().get("tokenauth"))) {
            throw new IllegalArgumentException(source + " asks for delegation-token authentication "
                    + "(tokenauth=true), which this client does not implement");
        }
        String username = module.options().get("username");
        String password = module.options().get("password");
        if (username == null || password == null) {
            throw new IllegalArgumentException(source + " has no username and password");
        }
        return mechanism.equals("PLAIN") ? host -> InterBrokerSecurity.plainClient(username, password)
                : host -> new ScramClient(ScramMechanism.forName(mechanism), username, password);
    }

    /**
     * GSSAPI as Kafka's clients run it (SaslClientAuthenticator): the module's Kerberos login, the service name from
     * {@code sasl.kerberos.service.name} or the module's {@code serviceName}, a ticket asked for
     * {@code service/<host dialled>}. The login is made now, so a bad keytab fails before any connection.
     */
    private static Function<String, SaslClient> gssapiClient(JaasLoginModule module, String source,
                                                             Function<String, String> setting) {
        if (!module.className().equals(KerberosLogin.KRB5_LOGIN_MODULE)) {
            throw new IllegalArgumentException(source + " names " + module.className() + ", but this client "
                    + "logs in for SASL GSSAPI only with " + KerberosLogin.KRB5_LOGIN_MODULE);
        }
        String serviceName = GssapiSettings.serviceName(module, setting);
        return GssapiClientLogin.forClient(module, source, serviceName).clients();
    }

    private static String orDefault(String value, String fallback) {
        return value == null ? fallback : value;
    }
}
