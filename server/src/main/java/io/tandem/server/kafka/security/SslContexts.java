package io.tandem.server.kafka.security;

import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.JdkSslContext;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;

import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.function.Function;

/**
 * A listener's server TLS context from Kafka's ssl.* keys (each one first under {@code listener.name.<listener>.}):
 * a JKS, PKCS12 or PEM key store (a PEM file, or the key and chain inline in ssl.keystore.key and
 * ssl.keystore.certificate.chain), an optional trust store of the same types (ssl.truststore.certificates inline for
 * PEM), ssl.client.auth, ssl.protocol, ssl.enabled.protocols, ssl.cipher.suites and the key/trust manager algorithms.
 * Built once at start-up with the JDK's JSSE through Netty; certificates are not reloaded while running.
 */
public final class SslContexts {
    /** Kafka's defaults (SslConfigs). */
    private static final String ENABLED_PROTOCOLS_DEFAULT = "TLSv1.2,TLSv1.3";

    private SslContexts() {
    }

    /** {@code setting} answers a key's value for this listener (prefixed first), null when unset. */
    public static SslContext server(Function<String, String> setting) {
        try {
            SslContextBuilder builder = keyStore(setting);
            TrustManagerFactory trust = trustStore(setting);
            if (trust != null) builder.trustManager(trust);
            String clientAuth = orDefault(setting, "ssl.client.auth", "none").trim().toLowerCase(Locale.ROOT);
            builder.clientAuth(switch (clientAuth) {
                case "required" -> ClientAuth.REQUIRE;
                case "requested" -> ClientAuth.OPTIONAL;
                case "none" -> ClientAuth.NONE;
                default -> throw new IllegalArgumentException("Invalid value " + clientAuth
                        + " for configuration ssl.client.auth: String must be one of: required, requested, none");
            });
            builder.sslProvider(SslProvider.JDK);
            builder.protocols(list(orDefault(setting, "ssl.enabled.protocols", ENABLED_PROTOCOLS_DEFAULT)));
            String ciphers = setting.apply("ssl.cipher.suites");
            if (ciphers != null && !ciphers.isBlank()) builder.ciphers(list(ciphers));
            return builder.build();
        } catch (IOException | GeneralSecurityException e) {
            throw new IllegalArgumentException("cannot build the listener's TLS context: " + e.getMessage(), e);
        }
    }

    /**
     * A TLS client context for the broker's own connections to other brokers, from the same keys (so the inter-broker
     * listener's key store is also the certificate this broker presents when the peer asks for one, as in Kafka):
     * the key store is optional here, the trust store (else the JDK's default) checks the peer. ssl.enabled.protocols
     * and ssl.cipher.suites are the caller's to apply to each socket ({@link #enabledProtocols}, {@link #cipherSuites}).
     */
    public static SSLContext client(Function<String, String> setting) {
        try {
            SslContextBuilder builder = setting.apply("ssl.keystore.location") == null
                    && setting.apply("ssl.keystore.key") == null ? SslContextBuilder.forClient()
                    : keyStore(setting, false);
            TrustManagerFactory trust = trustStore(setting);
            if (trust != null) builder.trustManager(trust);
            builder.sslProvider(SslProvider.JDK);
            return ((JdkSslContext) builder.build()).context();
        } catch (IOException | GeneralSecurityException e) {
            throw new IllegalArgumentException("cannot build the inter-broker TLS client context: " + e.getMessage(), e);
        }
    }

    /** ssl.enabled.protocols, Kafka's default when unset. */
    public static List<String> enabledProtocols(Function<String, String> setting) {
        return list(orDefault(setting, "ssl.enabled.protocols", ENABLED_PROTOCOLS_DEFAULT));
    }

    /** ssl.cipher.suites, empty for the JDK's defaults. */
    public static List<String> cipherSuites(Function<String, String> setting) {
        return list(orDefault(setting, "ssl.cipher.suites", ""));
    }

    private static SslContextBuilder keyStore(Function<String, String> setting)
            throws IOException, GeneralSecurityException {
        return keyStore(setting, true);
    }

    private static SslContextBuilder keyStore(Function<String, String> setting, boolean server)
            throws IOException, GeneralSecurityException {
        String type = orDefault(setting, "ssl.keystore.type", "JKS").trim().toUpperCase(Locale.ROOT);
        String location = setting.apply("ssl.keystore.location");
        String password = setting.apply("ssl.keystore.password");
        String keyPassword = setting.apply("ssl.key.password");
        if (type.equals("PEM")) {
            String key = setting.apply("ssl.keystore.key");
            String chain = setting.apply("ssl.keystore.certificate.chain");
            byte[] pem;
            if (key != null || chain != null) {
                if (key == null || chain == null || location != null) {
                    throw new IllegalArgumentException("a PEM key store needs ssl.keystore.key and "
                            + "ssl.keystore.certificate.chain together, or ssl.keystore.location alone");
                }
                return server ? SslContextBuilder.forServer(stream(chain.getBytes(StandardCharsets.US_ASCII)),
                        stream(key.getBytes(StandardCharsets.US_ASCII)), keyPassword)
                        : SslContextBuilder.forClient().keyManager(stream(chain.getBytes(StandardCharsets.US_ASCII)),
                        stream(key.getBytes(StandardCharsets.US_ASCII)), keyPassword);
            }
            if (location == null) throw new IllegalArgumentException("a TLS listener needs ssl.keystore.location");
            pem = Files.readAllBytes(Path.of(location));
            // One file holds the private key and its certificate chain, as Kafka's PEM key store does.
            return server ? SslContextBuilder.forServer(stream(pem), stream(pem), keyPassword)
                    : SslContextBuilder.forClient().keyManager(stream(pem), stream(pem), keyPassword);
        }
        if (location == null) throw new IllegalArgumentException("a TLS listener needs ssl.keystore.location");
        KeyStore store = load(type, location, password);
        KeyManagerFactory keys = KeyManagerFactory.getInstance(orDefault(setting, "ssl.keymanager.algorithm",
                KeyManagerFactory.getDefaultAlgorithm()));
        char[] keyChars = keyPassword != null ? keyPassword.toCharArray()
                : password != null ? password.toCharArray() : null;
        keys.init(store, keyChars);
        return server ? SslContextBuilder.forServer(keys) : SslContextBuilder.forClient().keyManager(keys);
    }

    private static TrustManagerFactory trustStore(Function<String, String> setting)
            throws IOException, GeneralSecurityException {
        String type = orDefault(setting, "ssl.truststore.type", "JKS").trim().toUpperCase(Locale.ROOT);
        String location = setting.apply("ssl.truststore.location");
        KeyStore store;
        if (type.equals("PEM")) {
            String inline = setting.apply("ssl.truststore.certificates");
            if (inline == null && location == null) return null;
            byte[] pem = inline != null ? inline.getBytes(StandardCharsets.US_ASCII) : Files.readAllBytes(Path.of(location));
            store = KeyStore.getInstance(KeyStore.getDefaultType());
            store.load(null, null);
            java.security.cert.CertificateFactory factory = java.security.cert.CertificateFactory.getInstance("X.509");
            int i = 0;
            for (java.security.cert.Certificate c : factory.generateCertificates(stream(pem))) {
                store.setCertificateEntry("ca-" + i++, c);
            }
            if (i == 0) throw new IllegalArgumentException("no certificate in the PEM trust store");
        } else {
            if (location == null) return null;
            store = load(type, location, setting.apply("ssl.truststore.password"));
        }
        TrustManagerFactory trust = TrustManagerFactory.getInstance(orDefault(setting, "ssl.trustmanager.algorithm",
                TrustManagerFactory.getDefaultAlgorithm()));
        trust.init(store);
        return trust;
    }

    private static KeyStore load(String type, String location, String password)
            throws IOException, GeneralSecurityException {
        if (!type.equals("JKS") && !type.equals("PKCS12")) {
            throw new IllegalArgumentException("store type " + type + " is not implemented (JKS, PKCS12, PEM)");
        }
        KeyStore store = KeyStore.getInstance(type);
        try (InputStream in = Files.newInputStream(Path.of(location))) {
            store.load(in, password == null ? null : password.toCharArray());
        }
        return store;
    }

    private static String orDefault(Function<String, String> setting, String key, String fallback) {
        String value = setting.apply(key);
        return value == null ? fallback : value;
    }

    private static List<String> list(String value) {
        return Arrays.stream(value.split(",")).map(String::trim).filter(s -> !s.isEmpty()).toList();
    }

    private static InputStream stream(byte[] bytes) {
        return new ByteArrayInputStream(bytes);
    }
}
