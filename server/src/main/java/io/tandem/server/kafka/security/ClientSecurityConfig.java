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
        // Kafka's JaasContext.loadClientContext: the property (one module), else every module of the KafkaClient
        // section of the JVM's JAAS file, all run in one login by Kafka's LoginManager.
        List<JaasLoginModule> modules;
        if (jaas != null) {
            modules = List.of(JaasLoginModule.parse(jaas));
        } else {
            try {
                modules = JaasLoginModule.clientSection();
            } catch (IllegalArgumentException e) {
                if (configured != null) throw e;
                throw new IllegalArgumentException(e.getMessage() + "; sasl.mechanism is Kafka's default, "
                        + mechanism, e);
            }
        }
        String source = jaas != null ? "sasl.jaas.config" : "the JAAS section " + JaasLoginModule.CLIENT_SECTION;
        if (mechanism.equals(GssapiServers.MECHANISM)) return gssapiClient(modules, source, setting);
        if (mechanism.equals("OAUTHBEARER")) {
            // Kafka's OAuthBearerUnsecuredLoginCallbackHandler.configure, word for word.
            if (modules.size() != 1) {
                throw new IllegalArgumentException(String.format("Must supply exactly 1 non-null JAAS mechanism "
                        + "configuration (size was %d)", modules.size()));
            }
            JaasLoginModule module = modules.get(0);
            if (!module.className().equals(JaasLoginModule.OAUTHBEARER_LOGIN_MODULE)) {
                throw new IllegalArgumentException(source + " names " + module.className() + ", but SASL "
                        + mechanism + " logs in with " + JaasLoginModule.OAUTHBEARER_LOGIN_MODULE);
            }
            Map<String, String> options = module.options();
            OAuthBearerClient.unsecuredToken(options, 0); // refuses options that name no principal now
            return host -> new OAuthBearerClient(options, System::currentTimeMillis);
        }
        // PLAIN and SCRAM: Kafka's PlainLoginModule and ScramLoginModule both put their username and password in the
        // login's subject, whichever mechanism is used, and Kafka's SaslClientCallbackHandler answers with the first
        // String of the subject's public credentials and the first of its private ones. Subject.getPublicCredentials
        // (Class) copies them into a HashSet, so with several modules "first" is that hash set's order, not the
        // section's: the same sets are built here, so the same username and password are sent (a section mixing two
        // users may well send one's name with the other's password, as Kafka's client does).
        java.util.Set<String> usernames = new java.util.HashSet<>();
        java.util.Set<String> passwords = new java.util.HashSet<>();
        for (JaasLoginModule module : modules) {
            String name = module.className();
            if (!name.equals(JaasLoginModule.PLAIN_LOGIN_MODULE) && !name.equals(JaasLoginModule.SCRAM_LOGIN_MODULE)) {
                throw new IllegalArgumentException(source + " names " + name + ": this client logs in for SASL "
                        + mechanism + " with " + JaasLoginModule.PLAIN_LOGIN_MODULE + " or "
                        + JaasLoginModule.SCRAM_LOGIN_MODULE + " only, and runs no other login module");
            }
            if (Boolean.parseBoolean(module.options().get("tokenauth"))) {
                throw new IllegalArgumentException(source + " asks for delegation-token authentication "
                        + "(tokenauth=true), which this client does not implement");
            }
            if (module.options().get("username") != null) usernames.add(module.options().get("username"));
            if (module.options().get("password") != null) passwords.add(module.options().get("password"));
        }
        if (usernames.isEmpty() || passwords.isEmpty()) {
            throw new IllegalArgumentException(source + " has no username and password");
        }
        String username = usernames.iterator().next();
        String password = passwords.iterator().next();
        String user = username;
        String secret = password;
        return mechanism.equals("PLAIN") ? host -> InterBrokerSecurity.plainClient(user, secret)
                : host -> new ScramClient(ScramMechanism.forName(mechanism), user, secret);
    }

    /**
     * GSSAPI as Kafka's clients run it (SaslClientAuthenticator): the module's Kerberos login, the service name from
     * {@code sasl.kerberos.service.name} or the module's {@code serviceName}, a ticket asked for
     * {@code service/<host dialled>}. The login is made now, so a bad keytab fails before any connection.
     */
    private static Function<String, SaslClient> gssapiClient(List<JaasLoginModule> modules, String source,
                                                             Function<String, String> setting) {
        // Kafka runs every module of the section in one login; the Kerberos one is the first Krb5LoginModule, and
        // PlainLoginModule or ScramLoginModule beside it only add credentials GSSAPI never reads.
        JaasLoginModule kerberos = null;
        for (JaasLoginModule module : modules) {
            String name = module.className();
            if (name.equals(KerberosLogin.KRB5_LOGIN_MODULE)) {
                if (kerberos == null) kerberos = module;
            } else if (!name.equals(JaasLoginModule.PLAIN_LOGIN_MODULE)
                    && !name.equals(JaasLoginModule.SCRAM_LOGIN_MODULE)) {
                throw new IllegalArgumentException(source + " names " + name + ": this client runs no such login "
                        + "module beside " + KerberosLogin.KRB5_LOGIN_MODULE);
            }
        }
        if (kerberos == null) {
            throw new IllegalArgumentException(source + " names " + modules.get(0).className() + ", but this client "
                    + "logs in for SASL GSSAPI only with " + KerberosLogin.KRB5_LOGIN_MODULE);
        }
        String serviceName = GssapiSettings.serviceName(kerberos, setting);
        return GssapiClientLogin.forClient(kerberos, source, serviceName).clients();
    }

    private static String orDefault(String value, String fallback) {
        return value == null ? fallback : value;
    }
}
