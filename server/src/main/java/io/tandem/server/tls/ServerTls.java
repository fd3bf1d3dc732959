package io.tandem.server.tls;

import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.JdkSslContext;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;

import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509ExtendedTrustManager;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.Enumeration;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.function.UnaryOperator;
import javax.security.auth.x500.X500Principal;

/**
 * A server TLS context from key and trust stores, shared by the Kafka listeners (Kafka's {@code ssl.*} keys) and the
 * ZooKeeper secure client port (ZooKeeper's {@code ssl.keyStore.*} keys): each side maps its own key names to
 * {@link Settings}. Stores are JKS, PKCS12 or PEM (a file, or the key and chain inline); built with the JDK's JSSE
 * through Netty (at start-up, and again when a Kafka listener's stores are reloaded: see {@link #certificateEntries}).
 * {@link #client} builds the matching client side for a node's own connections to its peers (brokers to brokers),
 * where the key store is what it shows a peer that asks for a certificate.
 */
public final class ServerTls {
    private ServerTls() {
    }

    /**
     * What a server TLS context is built from; null means unset.
     *
     * @param keyStoreType        JKS, PKCS12 or PEM
     * @param keyStoreLocation    the key store file (for PEM: one file with the private key and its certificate chain)
     * @param keyStorePassword    the store's password (JKS, PKCS12)
     * @param keyPassword         the private key's password (JKS, PKCS12: defaults to the store's; PEM: encrypted key)
     * @param keyPem              PEM only: the private key inline, with {@code chainPem} instead of a file
     * @param chainPem            PEM only: the certificate chain inline
     * @param trustStoreType      JKS, PKCS12 or PEM
     * @param trustStoreLocation  the trust store file; none set means the JDK's default trust
     * @param trustStorePassword  the trust store's password
     * @param trustPem            PEM only: trusted certificates inline
     * @param clientAuth          whether clients must (REQUIRE), may (OPTIONAL) or may not present a certificate
     * @param protocols           enabled protocols (empty: the JDK's)
     * @param ciphers             enabled cipher suites (empty: the JDK's)
     * @param keyManagerAlgorithm null: the JDK's default
     * @param trustManagerAlgorithm null: the JDK's default
     */
    public record Settings(String keyStoreType, String keyStoreLocation, String keyStorePassword, String keyPassword,
                           String keyPem, String chainPem, String trustStoreType, String trustStoreLocation,
                           String trustStorePassword, String trustPem, ClientAuth clientAuth, List<String> protocols,
                           List<String> ciphers, String keyManagerAlgorithm, String trustManagerAlgorithm) {
    }

    /**
     * One certificate of a key store, as Kafka's SslFactory.CertificateEntries compares them when a key store is
     * replaced at runtime: its alias, subject and subject alternative names.
     */
    public record CertificateEntry(String alias, X500Principal subject, Set<List<?>> subjectAltNames) {
    }

    /**
     * The X.509 certificates of the key store, in the store's alias order; a PEM store is one entry (alias "kafka",
     * as Kafka names the store it builds from PEM) for the first certificate of its chain.
     */
    public static List<CertificateEntry> certificateEntries(Settings s) {
        try {
            List<CertificateEntry> entries = new ArrayList<>();
            if (upper(s.keyStoreType(), "JKS").equals("PEM")) {
                String pem = s.chainPem() != null ? s.chainPem()
                        : Files.readString(Path.of(s.keyStoreLocation()), StandardCharsets.US_ASCII);
                Collection<? extends Certificate> chain = CertificateFactory.getInstance("X.509")
                        .generateCertificates(stream(certificateBlocks(pem).getBytes(StandardCharsets.US_ASCII)));
                if (!chain.isEmpty()) entries.add(entry("kafka", (X509Certificate) chain.iterator().next()));
                return entries;
            }
            KeyStore store = load(upper(s.keyStoreType(), "JKS"), s.keyStoreLocation(), s.keyStorePassword());
            Enumeration<String> aliases = store.aliases();
            while (aliases.hasMoreElements()) {
                String alias = aliases.nextElement();
                if (store.getCertificate(alias) instanceof X509Certificate cert) entries.add(entry(alias, cert));
            }
            return entries;
        } catch (IOException | GeneralSecurityException e) {
            throw new IllegalArgumentException("cannot read the key store: " + e.getMessage(), e);
        }
    }

    /** The CERTIFICATE blocks of a PEM text (a PEM key store file also holds the private key, which is left out). */
    private static String certificateBlocks(String pem) {
        StringBuilder blocks = new StringBuilder();
        String begin = "-----BEGIN CERTIFICATE-----";
        String end = "-----END CERTIFICATE-----";
        for (int from = pem.indexOf(begin); from >= 0; from = pem.indexOf(begin, from)) {
            int to = pem.indexOf(end, from);
            if (to < 0) break;
            blocks.append(pem, from, to + end.length()).append('\n');
            from = to + end.length();
        }
        return blocks.toString();
    }

    private static CertificateEntry entry(String alias, X509Certificate cert) throws GeneralSecurityException {
        Collection<List<?>> names = cert.getSubjectAlternativeNames();
        return new CertificateEntry(alias, cert.getSubjectX500Principal(),
                names == null ? Collections.emptySet() : new HashSet<>(names));
    }

    /** The context, or IllegalArgumentException naming what is wrong (a start-up error). */
    public static SslContext server(Settings settings) {
        return server(settings, null);
    }

    /**
     * As {@link #server(Settings)}, the trust store's manager wrapped by {@code wrapTrust} (null: not wrapped), e.g.
     * to check a client's address as ZooKeeper's ZKTrustManager does; the connection's engine must then be made with
     * the client's address ({@code newHandler(allocator, host, port)}).
     */
    public static SslContext server(Settings settings, UnaryOperator<X509ExtendedTrustManager> wrapTrust) {
        try {
            SslContextBuilder builder = keyStore(settings);
            TrustManagerFactory trust = trustStore(settings);
            if (trust != null && wrapTrust != null) {
                builder.trustManager(wrapTrust.apply(extended(trust)));
            } else if (trust != null) {
                builder.trustManager(trust);
            }
            builder.clientAuth(settings.clientAuth());
            builder.sslProvider(SslProvider.JDK);
            if (!settings.protocols().isEmpty()) builder.protocols(settings.protocols());
            if (!settings.ciphers().isEmpty()) builder.ciphers(settings.ciphers());
            return builder.build();
        } catch (IOException | GeneralSecurityException e) {
            throw new IllegalArgumentException("cannot build the TLS context: " + e.getMessage(), e);
        }
    }

    /**
     * A client context from the same settings (clientAuth, protocols and ciphers aside, which the caller applies to
     * each socket): the key store is optional, the trust store (else the JDK's default trust) checks the server.
     */
    public static SSLContext client(Settings settings) {
        return client(settings, null);
    }

    /**
     * As {@link #client(Settings)}, the trust store's manager wrapped by {@code wrapTrust} (null: not wrapped), e.g.
     * to check the server's host name as ZooKeeper's ZKTrustManager does; without a trust store there is nothing to
     * wrap and the JDK's default trust checks the server.
     */
    public static SSLContext client(Settings settings, UnaryOperator<X509ExtendedTrustManager> wrapTrust) {
        try {
            SslContextBuilder builder = settings.keyStoreLocation() == null && settings.keyPem() == null
                    ? SslContextBuilder.forClient() : keyStore(settings, false);
            TrustManagerFactory trust = trustStore(settings);
            if (trust != null && wrapTrust != null) {
                builder.trustManager(wrapTrust.apply(extended(trust)));
            } else if (trust != null) {
                builder.trustManager(trust);
            }
            builder.sslProvider(SslProvider.JDK);
            return ((JdkSslContext) builder.build()).context();
        } catch (IOException | GeneralSecurityException e) {
            throw new IllegalArgumentException("cannot build the TLS client context: " + e.getMessage(), e);
        }
    }

    private static X509ExtendedTrustManager extended(TrustManagerFactory trust) {
        X509ExtendedTrustManager manager = null;
        for (TrustManager candidate : trust.getTrustManagers()) {
            if (candidate instanceof X509ExtendedTrustManager extended) manager = extended;
        }
        if (manager == null) throw new IllegalArgumentException("the trust store has no X.509 trust manager");
        return manager;
    }

    private static SslContextBuilder keyStore(Settings s) throws IOException, GeneralSecurityException {
        return keyStore(s, true);
    }

    private static SslContextBuilder keyStore(Settings s, boolean server) throws IOException, GeneralSecurityException {
        String type = upper(s.keyStoreType(), "JKS");
        String location = s.keyStoreLocation();
        if (type.equals("PEM")) {
            if (s.keyPem() != null || s.chainPem() != null) {
                if (s.keyPem() == null || s.chainPem() == null || location != null) {
                    throw new IllegalArgumentException("a PEM key store needs the key and the certificate chain "
                            + "together, or a key store file alone");
                }
                InputStream chain = stream(s.chainPem().getBytes(StandardCharsets.US_ASCII));
                InputStream key = stream(s.keyPem().getBytes(StandardCharsets.US_ASCII));
                return server ? SslContextBuilder.forServer(chain, key, emptyToNull(s.keyPassword()))
                        : SslContextBuilder.forClient().keyManager(chain, key, emptyToNull(s.keyPassword()));
            }
            if (location == null) throw new IllegalArgumentException("a TLS port needs a key store location");
            byte[] pem = Files.readAllBytes(Path.of(location));
            // One file holds the private key and its certificate chain, as Kafka's and ZooKeeper's PEM stores do.
            return server ? SslContextBuilder.forServer(stream(pem), stream(pem), emptyToNull(s.keyPassword()))
                    : SslContextBuilder.forClient().keyManager(stream(pem), stream(pem), emptyToNull(s.keyPassword()));
        }
        if (location == null) throw new IllegalArgumentException("a TLS port needs a key store location");
        KeyStore store = load(type, location, s.keyStorePassword());
        KeyManagerFactory keys = KeyManagerFactory.getInstance(s.keyManagerAlgorithm() != null
                ? s.keyManagerAlgorithm() : KeyManagerFactory.getDefaultAlgorithm());
        String keyPassword = s.keyPassword() != null ? s.keyPassword() : s.keyStorePassword();
        keys.init(store, keyPassword == null ? null : keyPassword.toCharArray());
        return server ? SslContextBuilder.forServer(keys) : SslContextBuilder.forClient().keyManager(keys);
    }

    private static TrustManagerFactory trustStore(Settings s) throws IOException, GeneralSecurityException {
        String type = upper(s.trustStoreType(), "JKS");
        String location = s.trustStoreLocation();
        KeyStore store;
        if (type.equals("PEM")) {
            if (s.trustPem() == null && location == null) return null;
            byte[] pem = s.trustPem() != null ? s.trustPem().getBytes(StandardCharsets.US_ASCII)
                    : Files.readAllBytes(Path.of(location));
            store = KeyStore.getInstance(KeyStore.getDefaultType());
            store.load(null, null);
            int i = 0;
            for (Certificate c : CertificateFactory.getInstance("X.509").generateCertificates(stream(pem))) {
                store.setCertificateEntry("ca-" + i++, c);
            }
            if (i == 0) throw new IllegalArgumentException("no certificate in the PEM trust store");
        } else {
            if (location == null) return null;
            store = load(type, location, s.trustStorePassword());
        }
        TrustManagerFactory trust = TrustManagerFactory.getInstance(s.trustManagerAlgorithm() != null
                ? s.trustManagerAlgorithm() : TrustManagerFactory.getDefaultAlgorithm());
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

    private static String upper(String value, String fallback) {
        return value == null ? fallback : value.trim().toUpperCase(Locale.ROOT);
    }

    private static String emptyToNull(String value) {
        return value == null || value.isEmpty() ? null : value;
    }

    private static InputStream stream(byte[] bytes) {
        return new ByteArrayInputStream(bytes);
    }
}
