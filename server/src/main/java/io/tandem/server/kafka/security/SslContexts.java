package io.tandem.server.kafka.security;

import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.SslContext;
import io.tandem.server.tls.ServerTls;

import javax.net.ssl.SSLContext;
import javax.net.ssl.X509ExtendedTrustManager;
import java.util.function.UnaryOperator;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.function.Function;

/**
 * A listener's server TLS context from Kafka's ssl.* keys (each one first under {@code listener.name.<listener>.}):
 * a JKS, PKCS12 or PEM key store (a PEM file, or the key and chain inline in ssl.keystore.key and
 * ssl.keystore.certificate.chain), an optional trust store of the same types (ssl.truststore.certificates inline for
 * PEM), ssl.client.auth, ssl.protocol, ssl.enabled.protocols, ssl.cipher.suites and the key/trust manager algorithms.
 * Kafka's key names are mapped here; the stores are loaded by {@link ServerTls}, which the ZooKeeper secure client
 * port shares. {@link ListenerTls} rebuilds a listener's context when its stores are reloaded.
 */
public final class SslContexts {
    /** Kafka's defaults (SslConfigs). */
    private static final String ENABLED_PROTOCOLS_DEFAULT = "TLSv1.2,TLSv1.3";

    private SslContexts() {
    }

    /** {@code setting} answers a key's value for this listener (prefixed first), null when unset. */
    public static SslContext server(Function<String, String> setting) {
        String clientAuth = orDefault(setting, "ssl.client.auth", "none").trim().toLowerCase(Locale.ROOT);
        ClientAuth auth = switch (clientAuth) {
            case "required" -> ClientAuth.REQUIRE;
            case "requested" -> ClientAuth.OPTIONAL;
            case "none" -> ClientAuth.NONE;
            default -> throw new IllegalArgumentException("Invalid value " + clientAuth
                    + " for configuration ssl.client.auth: String must be one of: required, requested, none");
        };
        String ciphers = setting.apply("ssl.cipher.suites");
        String type = orDefault(setting, "ssl.keystore.type", "JKS");
        if (setting.apply("ssl.keystore.location") == null
                && !(type.trim().equalsIgnoreCase("PEM") && setting.apply("ssl.keystore.key") != null)) {
            throw new IllegalArgumentException("a TLS listener needs ssl.keystore.location");
        }
        return ServerTls.server(settings(setting, auth, ciphers));
    }

    /**
     * A TLS client context for the broker's own connections to other brokers, from the same keys (so the inter-broker
     * listener's key store is also the certificate this broker presents when the peer asks for one, as in Kafka):
     * the key store is optional here, the trust store (else the JDK's default) checks the peer. ssl.enabled.protocols
     * and ssl.cipher.suites are the caller's to apply to each socket ({@link #enabledProtocols}, {@link #cipherSuites}).
     */
    public static SSLContext client(Function<String, String> setting) {
        try {
            return ServerTls.client(settings(setting, ClientAuth.NONE, setting.apply("ssl.cipher.suites")));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("cannot build the inter-broker TLS client context: " + e.getMessage(), e);
        }
    }

    /**
     * As {@link #client(Function)}, the trust store's manager wrapped by {@code wrapTrust} (a host check of the
     * peer's own kind, e.g. ZooKeeper's; see ServerTls.client).
     */
    public static SSLContext client(Function<String, String> setting,
                                    UnaryOperator<X509ExtendedTrustManager> wrapTrust) {
        return ServerTls.client(settings(setting, ClientAuth.NONE, setting.apply("ssl.cipher.suites")), wrapTrust);
    }

    /** The key store's certificates, which a reloaded key store must match (see {@link ListenerTls}). */
    public static List<ServerTls.CertificateEntry> certificates(Function<String, String> setting) {
        return ServerTls.certificateEntries(settings(setting, ClientAuth.NONE, null));
    }

    /** Whether a trust store is configured (else clients are checked against nothing, or the JDK's default). */
    public static boolean hasTrustStore(Function<String, String> setting) {
        return setting.apply("ssl.truststore.location") != null
                || (orDefault(setting, "ssl.truststore.type", "JKS").trim().equalsIgnoreCase("PEM")
                && setting.apply("ssl.truststore.certificates") != null);
    }

    /** ssl.enabled.protocols, Kafka's default when unset. */
    public static List<String> enabledProtocols(Function<String, String> setting) {
        return list(orDefault(setting, "ssl.enabled.protocols", ENABLED_PROTOCOLS_DEFAULT));
    }

    /** ssl.cipher.suites, empty for the JDK's defaults. */
    public static List<String> cipherSuites(Function<String, String> setting) {
        return list(orDefault(setting, "ssl.cipher.suites", ""));
    }

    /** Kafka's key names mapped onto the shared store settings. */
    private static ServerTls.Settings settings(Function<String, String> setting, ClientAuth auth, String ciphers) {
        return new ServerTls.Settings(orDefault(setting, "ssl.keystore.type", "JKS"),
                setting.apply("ssl.keystore.location"),
                setting.apply("ssl.keystore.password"), setting.apply("ssl.key.password"),
                setting.apply("ssl.keystore.key"), setting.apply("ssl.keystore.certificate.chain"),
                setting.apply("ssl.truststore.type"), setting.apply("ssl.truststore.location"),
                setting.apply("ssl.truststore.password"), setting.apply("ssl.truststore.certificates"), auth,
                list(orDefault(setting, "ssl.enabled.protocols", ENABLED_PROTOCOLS_DEFAULT)),
                ciphers == null ? List.of() : list(ciphers), setting.apply("ssl.keymanager.algorithm"),
                setting.apply("ssl.trustmanager.algorithm"));
    }

    private static String orDefault(Function<String, String> setting, String key, String fallback) {
        String value = setting.apply(key);
        return value == null ? fallback : value;
    }

    private static List<String> list(String value) {
        return Arrays.stream(value.split(",")).map(String::trim).filter(s -> !s.isEmpty()).toList();
    }
}
