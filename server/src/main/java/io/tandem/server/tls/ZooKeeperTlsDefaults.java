package io.tandem.server.tls;

import java.security.GeneralSecurityException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLServerSocketFactory;

/**
 * The protocols and cipher suites Apache ZooKeeper 3.9's X509Util offers when its keys leave them unset, so that a
 * Tandem port offers what an Apache server configured the same way offers (read from ZooKeeper 3.9.5's
 * X509Util, ClientX509Util and SSLContextAndOptions):
 * <ul>
 *   <li>The default protocol is TLSv1.3 when the JDK supports it, else TLSv1.2.</li>
 *   <li>The default cipher suites are Apache's own list, not the JDK's: ECDHE with AES-GCM first (the order Apache
 *   picks on Java 9 and later), then ECDHE with AES-CBC, then the TLSv1.3 suites, less those the JDK's server socket
 *   factory does not support. {@code ciphersuites} replaces the list.</li>
 *   <li>The client port's Netty contexts ({@link #nettyProtocols}) enable {@code enabledProtocols}, else the one
 *   protocol {@code protocol} names: by default TLSv1.3 alone, which a client offering only TLSv1.2 cannot reach.</li>
 *   <li>The quorum's sockets ({@link #socketProtocols}) enable {@code enabledProtocols}, else the defaults of the JDK's
 *   context for {@code protocol}: TLSv1.3 and TLSv1.2 for TLSv1.3.</li>
 * </ul>
 */
public final class ZooKeeperTlsDefaults {
    /** Apache's preferred suites on Java 9 and later, in its order (X509Util's GCM, CBC and TLSv1.3 lists). */
    private static final List<String> APACHE_CIPHER_SUITES = List.of(
            "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
            "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
            "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256", "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256",
            "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA", "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA",
            "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384", "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384",
            "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA", "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA",
            "TLS_AES_256_GCM_SHA384", "TLS_AES_128_GCM_SHA256", "TLS_CHACHA20_POLY1305_SHA256");

    private ZooKeeperTlsDefaults() {
    }

    /** X509Util.DEFAULT_PROTOCOL: TLSv1.3 when the JDK's default context supports it, else TLSv1.2. */
    public static String defaultProtocol() {
        try {
            return Arrays.asList(SSLContext.getDefault().getSupportedSSLParameters().getProtocols())
                    .contains("TLSv1.3") ? "TLSv1.3" : "TLSv1.2";
        } catch (GeneralSecurityException e) {
            return "TLSv1.2";
        }
    }

    /** X509Util.getDefaultCipherSuites: Apache's list, less what the JDK's server sockets do not support. */
    public static List<String> defaultCipherSuites() {
        Set<String> supported = Set.of(((SSLServerSocketFactory) SSLServerSocketFactory.getDefault())
                .getSupportedCipherSuites());
        return APACHE_CIPHER_SUITES.stream().filter(supported::contains).toList();
    }

    /** The cipher suites of a {@code ciphersuites} key (null: unset), as X509Util reads it. */
    public static List<String> cipherSuites(String ciphersuites) {
        return ciphersuites == null ? defaultCipherSuites() : list(ciphersuites);
    }

    /** ClientX509Util's protocols for the client port's Netty contexts: the list, else the one protocol. */
    public static List<String> nettyProtocols(String protocol, String enabledProtocols) {
        if (enabledProtocols != null) return list(enabledProtocols);
        return List.of(protocol != null ? protocol : defaultProtocol());
    }

    /**
     * SSLContextAndOptions' protocols for the quorum's sockets: the list, else what the JDK's context for the
     * protocol enables by default. IllegalArgumentException when the JDK has no such protocol.
     */
    public static List<String> socketProtocols(String protocol, String enabledProtocols) {
        if (enabledProtocols != null) return list(enabledProtocols);
        return contextDefaults(protocol != null ? protocol : defaultProtocol());
    }

    /** The protocols the JDK's context for {@code protocol} enables by default on its sockets and engines. */
    public static List<String> contextDefaults(String protocol) {
        try {
            SSLContext context = SSLContext.getInstance(protocol);
            context.init(null, null, null);
            return List.of(context.getDefaultSSLParameters().getProtocols());
        } catch (GeneralSecurityException e) {
            throw new IllegalArgumentException("TLS protocol " + protocol + " is not available: " + e.getMessage(), e);
        }
    }

    private static List<String> list(String value) {
        List<String> items = new ArrayList<>();
        for (String item : value.split(",")) {
            if (!item.isBlank()) items.add(item.trim());
        }
        return List.copyOf(items);
    }
}
