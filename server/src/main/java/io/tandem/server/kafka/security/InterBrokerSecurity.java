package io.tandem.server.kafka.security;

import io.tandem.kafka.client.ClientSecurity;
import io.tandem.server.kafka.metadata.KafkaZkLayout.BrokerRegistration;
import io.tandem.server.kerberos.GssapiServers;
import io.tandem.server.kerberos.SharedLogin;
import io.tandem.server.kafka.metadata.KafkaZkLayout.ListenerEndpoint;

import javax.security.auth.callback.NameCallback;
import javax.security.auth.callback.PasswordCallback;
import javax.security.auth.callback.UnsupportedCallbackException;
import javax.security.sasl.Sasl;
import javax.security.sasl.SaslClient;
import javax.security.sasl.SaslException;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;

/**
 * How this broker reaches other brokers, as Kafka 3.9's broker does: over the inter-broker listener (
 * {@code inter.broker.listener.name}, or the listener named by {@code security.inter.broker.protocol}), at the
 * peer's endpoint for that listener in its registration, with that listener's security on the client side: TLS from
 * the listener's ssl.* keys (its key store is the certificate this broker shows a peer that requires client
 * authentication; ssl.endpoint.identification.algorithm=https, Kafka's default, checks the peer's host name) and
 * SASL with {@code sasl.mechanism.inter.broker.protocol}, the username and password of that mechanism's login
 * module ({@code listener.name.<listener>.<mechanism>.sasl.jaas.config}, else the JAAS file's
 * {@code <listener>.KafkaServer} or {@code KafkaServer} section); for GSSAPI, that module's Kerberos login (the
 * keytab the listener accepts tickets with) asking tickets for {@code sasl.kerberos.service.name} on the host dialled
 * ({@link GssapiClientLogin}).
 *
 * @param listenerName the inter-broker listener, null for "whatever the registration's first endpoint is" (a broker
 *                     built without a configuration, in tests)
 * @param saslUser     the name the other brokers authenticate this one as (its User: principal), null without SASL
 * @param kerberosLogin this broker's handle on its Kerberos login (shared with its GSSAPI listener), null unless
 *                     GSSAPI; released by {@link #close}
 */
public record InterBrokerSecurity(String listenerName, String protocol, ClientSecurity client, String saslUser,
                                  SharedLogin kerberosLogin) {
    /** Kafka's default sasl.mechanism.inter.broker.protocol. */
    private static final String MECHANISM_DEFAULT = "GSSAPI";
    /** The mechanisms this broker logs in to other brokers with: the two-sided ones and GSSAPI. */
    public static final java.util.List<String> MECHANISMS = java.util.stream.Stream.concat(
            java.util.stream.Stream.of(GssapiServers.MECHANISM), SaslSettings.IMPLEMENTED_MECHANISMS.stream()).toList();
    /** Kafka's default ssl.endpoint.identification.algorithm. */
    private static final String ENDPOINT_IDENTIFICATION_DEFAULT = "https";

    /** Security without a Kerberos login. */
    public InterBrokerSecurity(String listenerName, String protocol, ClientSecurity client, String saslUser) {
        this(listenerName, protocol, client, saslUser, null);
    }

    /** PLAINTEXT to each broker's first registered endpoint. */
    public static final InterBrokerSecurity PLAINTEXT = new InterBrokerSecurity(null, "PLAINTEXT",
            ClientSecurity.PLAINTEXT, null);

    /**
     * The client side of the inter-broker listener {@code listenerName} of security protocol {@code protocol};
     * IllegalArgumentException names a setting that cannot be honoured (a mechanism not implemented or not enabled
     * on the listener, no username or password, an unreadable store).
     */
    public static InterBrokerSecurity build(String listenerName, String protocol, Map<String, String> settings) {
        String prefix = "listener.name." + listenerName.toLowerCase(Locale.ROOT) + ".";
        Function<String, String> setting = key -> settings.containsKey(prefix + key)
                ? settings.get(prefix + key) : settings.get(key);
        boolean tls = protocol.equals("SSL") || protocol.equals("SASL_SSL");
        boolean sasl = protocol.equals("SASL_PLAINTEXT") || protocol.equals("SASL_SSL");
        if (!tls && !sasl) return new InterBrokerSecurity(listenerName, protocol, ClientSecurity.PLAINTEXT, null);
        javax.net.ssl.SSLContext context = null;
        java.util.List<String> protocols = java.util.List.of();
        java.util.List<String> ciphers = java.util.List.of();
        boolean verifyHostname = false;
        if (tls) {
            // Reloadable: the inter-broker listener's stores may be reloaded at runtime (ListenerTls).
            context = ReloadableSslContext.of(SslContexts.client(setting));
            protocols = SslContexts.enabledProtocols(setting);
            ciphers = SslContexts.cipherSuites(setting);
            verifyHostname = endpointIdentification(setting.apply("ssl.endpoint.identification.algorithm"));
        }
        Function<String, SaslClient> saslClient = null;
        String user = null;
        if (sasl) {
            String configured = settings.get("sasl.mechanism.inter.broker.protocol");
            String mechanism = (configured == null ? MECHANISM_DEFAULT : configured).trim().toUpperCase(Locale.ROOT);
            if (!MECHANISMS.contains(mechanism)) {
                throw new IllegalArgumentException("sasl.mechanism.inter.broker.protocol " + mechanism
                        + (configured == null ? " (Kafka's default)" : "") + " is not implemented: set it to one of "
                        + String.join(", ", MECHANISMS));
            }
            String enabled = setting.apply("sasl.enabled.mechanisms");
            if (enabled == null || java.util.Arrays.stream(enabled.split(","))
                    .noneMatch(m -> m.trim().equalsIgnoreCase(mechanism))) {
                // Kafka's check: the other brokers could not accept this broker's own connections.
                throw new IllegalArgumentException("sasl.mechanism.inter.broker.protocol must be included in "
                        + "sasl.enabled.mechanisms when SASL is used for inter-broker communication");
            }
            if (mechanism.equals(GssapiServers.MECHANISM)) {
                GssapiClientLogin login = GssapiClientLogin.build(listenerName, settings, setting);
                return new InterBrokerSecurity(listenerName, protocol, new ClientSecurity(context, protocols, ciphers,
                        verifyHostname, login.clients()), login.shortName(), login.shared());
            }
            JaasLoginModule module = JaasLoginModule.find(listenerName, mechanism, settings);
            if (mechanism.equals("OAUTHBEARER")) {
                // Kafka's unsecured login: the broker's own token names it by the principal claim.
                Map<String, String> options = module == null ? Map.of() : module.options();
                String principal = options.get("unsecuredLoginStringClaim_"
                        + options.getOrDefault("unsecuredLoginPrincipalClaimName", "sub"));
                OAuthBearerClient.unsecuredToken(options, 0); // refuses options that name no principal now
                return new InterBrokerSecurity(listenerName, protocol, new ClientSecurity(context, protocols, ciphers,
                        verifyHostname, host -> new OAuthBearerClient(options, System::currentTimeMillis)), principal);
            }
            String username = module == null ? null : module.options().get("username");
            String password = module == null ? null : module.options().get("password");
            if (username == null || password == null) {
                throw new IllegalArgumentException("the " + mechanism + " login module of listener " + listenerName
                        + " has no username and password for this broker's connections to other brokers (set them in "
                        + prefix + mechanism.toLowerCase(Locale.ROOT) + ".sasl.jaas.config)");
            }
            user = username;
            saslClient = mechanism.equals("PLAIN") ? host -> plainClient(username, password)
                    : host -> new ScramClient(ScramMechanism.forName(mechanism), username, password);
        }
        return new InterBrokerSecurity(listenerName, protocol,
                new ClientSecurity(context, protocols, ciphers, verifyHostname, saslClient), user);
    }

    /** Lets this broker's Kerberos login go (its listener may still hold it); once the broker's channels closed. */
    public void close() {
        if (kerberosLogin != null) kerberosLogin.close();
    }

    /** The TLS client context to reload with the inter-broker listener's stores; null without TLS. */
    public ReloadableSslContext reloadableTls() {
        return client.sslContext() instanceof ReloadableSslContext reloadable ? reloadable : null;
    }

    static boolean endpointIdentification(String value) {
        String v = value == null ? ENDPOINT_IDENTIFICATION_DEFAULT : value.trim();
        if (v.isEmpty()) return false;
        if (v.equalsIgnoreCase("https")) return true;
        throw new IllegalArgumentException("ssl.endpoint.identification.algorithm " + v
                + " is not implemented (https, or empty to turn host name checks off)");
    }

    /** The JDK's PLAIN client: {@code \0username\0password}, as Kafka's PlainSaslClient sends it. */
    static SaslClient plainClient(String username, String password) {
        try {
            return Sasl.createSaslClient(new String[] {"PLAIN"}, null, "kafka", null, Map.of(), callbacks -> {
                for (var callback : callbacks) {
                    if (callback instanceof NameCallback name) name.setName(username);
                    else if (callback instanceof PasswordCallback secret) secret.setPassword(password.toCharArray());
                    else throw new UnsupportedCallbackException(callback);
                }
            });
        } catch (SaslException e) {
            throw new IllegalStateException("the JDK's PLAIN SASL client is missing", e);
        }
    }

    /**
     * Where to reach {@code peer}: its endpoint on the inter-broker listener (Kafka's brokerEndPoint(listenerName)),
     * or null when it registered none (it cannot be reached securely, and a plaintext endpoint is never used instead).
     */
    public ListenerEndpoint endpoint(BrokerRegistration peer) {
        ListenerEndpoint first = peer.endpoints().get(0);
        if (listenerName == null) return first;
        ListenerEndpoint endpoint = peer.endpoint(listenerName);
        // Plaintext both ways loses nothing: a peer registered under another listener name is still reachable.
        if (endpoint == null && protocol.equals("PLAINTEXT") && first.securityProtocol().equals("PLAINTEXT")) return first;
        return endpoint;
    }
}
