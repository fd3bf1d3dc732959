package io.tandem.server.kafka.metadata;

import io.netty.handler.ssl.ClientAuth;
import io.tandem.server.ConfigKeys.Verdict;
import io.tandem.server.tls.AddressThenNameTrustManager;
import io.tandem.server.tls.HostLookup;
import io.tandem.server.tls.ServerTls;
import io.tandem.server.tls.ZooKeeperTlsDefaults;
import io.tandem.zk.client.ClientTls;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Executor;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLParameters;

/**
 * The broker's TLS to ZooKeeper from Kafka 3.9's {@code zookeeper.ssl.*} keys (KIP-515), applied as Kafka's
 * KafkaServer.zkClientConfigFromKafkaConfig hands them to Apache's client and its X509Util applies them: key and trust
 * stores (JKS, PKCS12 or PEM; without a type, the file name's extension decides, as ZooKeeper's KeyStoreFileType),
 * the trust store absent meaning the JDK's default trust; {@code zookeeper.ssl.protocol} (Kafka's default TLSv1.2) is
 * also the only enabled protocol unless {@code zookeeper.ssl.enabled.protocols} lists others; hostname verification
 * (HTTPS endpoint identification against the connect string's host) unless
 * {@code zookeeper.ssl.endpoint.identification.algorithm} is something other than HTTPS. Revocation checks (CRL, OCSP)
 * are not implemented and refused. A key missing from server.properties falls back to the ZooKeeper client's system
 * property, as in Kafka ({@link #SYSTEM_PROPERTIES}).
 */
public final class ZkClientTls {
    public static final String PREFIX = "zookeeper.ssl.";
    public static final String ENABLE = "zookeeper.ssl.client.enable";
    public static final String SOCKET = "zookeeper.clientCnxnSocket";
    /** Apache's only client socket with TLS: Kafka's documentation asks for it with zookeeper.ssl.client.enable. */
    public static final String NETTY_SOCKET = "org.apache.zookeeper.ClientCnxnSocketNetty";
    static final String KEYSTORE_LOCATION = "zookeeper.ssl.keystore.location";
    static final String KEYSTORE_PASSWORD = "zookeeper.ssl.keystore.password";
    static final String KEYSTORE_TYPE = "zookeeper.ssl.keystore.type";
    static final String TRUSTSTORE_LOCATION = "zookeeper.ssl.truststore.location";
    static final String TRUSTSTORE_PASSWORD = "zookeeper.ssl.truststore.password";
    static final String TRUSTSTORE_TYPE = "zookeeper.ssl.truststore.type";
    static final String PROTOCOL = "zookeeper.ssl.protocol";
    static final String ENABLED_PROTOCOLS = "zookeeper.ssl.enabled.protocols";
    static final String CIPHER_SUITES = "zookeeper.ssl.cipher.suites";
    static final String ENDPOINT_IDENTIFICATION = "zookeeper.ssl.endpoint.identification.algorithm";
    static final String CRL = "zookeeper.ssl.crl.enable";
    static final String OCSP = "zookeeper.ssl.ocsp.enable";
    /** The ZooKeeper client's system property for FIPS mode (3.8: default false; Kafka does not set it). */
    static final String FIPS_MODE = "zookeeper.fips-mode";
    /** Kafka's default zookeeper.ssl.protocol. */
    static final String DEFAULT_PROTOCOL = "TLSv1.2";
    private static final Set<String> STORE_TYPES = Set.of("JKS", "PKCS12", "PEM");
    /** Kafka's ZkConfigs.ZK_SSL_CONFIG_TO_SYSTEM_PROPERTY_MAP: the ZooKeeper client's system property of each key. */
    static final Map<String, String> SYSTEM_PROPERTIES = Map.ofEntries(Map.entry(ENABLE, "zookeeper.client.secure"),
            Map.entry(SOCKET, "zookeeper.clientCnxnSocket"),
            Map.entry(KEYSTORE_LOCATION, "zookeeper.ssl.keyStore.location"),
            Map.entry(KEYSTORE_PASSWORD, "zookeeper.ssl.keyStore.password"),
            Map.entry(KEYSTORE_TYPE, "zookeeper.ssl.keyStore.type"),
            Map.entry(TRUSTSTORE_LOCATION, "zookeeper.ssl.trustStore.location"),
            Map.entry(TRUSTSTORE_PASSWORD, "zookeeper.ssl.trustStore.password"),
            Map.entry(TRUSTSTORE_TYPE, "zookeeper.ssl.trustStore.type"),
            Map.entry(PROTOCOL, "zookeeper.ssl.protocol"),
            Map.entry(ENABLED_PROTOCOLS, "zookeeper.ssl.enabledProtocols"),
            Map.entry(CIPHER_SUITES, "zookeeper.ssl.ciphersuites"),
            Map.entry(ENDPOINT_IDENTIFICATION, "zookeeper.ssl.hostnameVerification"),
            Map.entry(CRL, "zookeeper.ssl.crl"), Map.entry(OCSP, "zookeeper.ssl.ocsp"));

    private final ClientTls engines;
    private final boolean identifiesClient;

    private ZkClientTls(ClientTls engines, boolean identifiesClient) {
        this.engines = engines;
        this.identifiesClient = identifiesClient;
    }

    /** A new engine per connection, for the host and port dialled. */
    public ClientTls engines() {
        return engines;
    }

    /**
     * Whether this configuration authenticates the broker to ZooKeeper with a certificate, as Kafka's
     * zkTlsClientAuthEnabled decides it (client.enable, clientCnxnSocket and keystore.location all set), which is
     * enough for {@code zookeeper.set.acl=true} without a SASL login: the znodes then carry the certificate's x509 id.
     */
    public boolean identifiesClient() {
        return identifiesClient;
    }

    /**
     * The client TLS of the broker's settings, or null when {@code zookeeper.ssl.client.enable} is not true. A store
     * that cannot be read is an IllegalArgumentException naming its key (a start-up error).
     */
    public static ZkClientTls from(Map<String, String> brokerSettings) {
        return from(brokerSettings, ZkTlsChecks.SHARED, HostLookup.SYSTEM);
    }

    /** As {@link #from(Map)}, the handshakes' checks on {@code checks}, the host names looked up by {@code lookup}. */
    static ZkClientTls from(Map<String, String> brokerSettings, ZkTlsChecks checks, HostLookup lookup) {
        Map<String, String> settings = withSystemProperties(brokerSettings);
        if (!"true".equalsIgnoreCase(trimmed(settings, ENABLE))) return null;
        // What came from system properties was not checked with server.properties: the same verdicts, now.
        SYSTEM_PROPERTIES.forEach((key, property) -> {
            if (brokerSettings.containsKey(key) || !settings.containsKey(key)) return;
            Verdict verdict = key.equals(SOCKET) ? Verdict.IMPLEMENTED : verdict(key, settings.get(key), settings);
            if (verdict.kind() == io.tandem.server.ConfigKeys.Kind.REFUSED) {
                throw new IllegalArgumentException("system property " + property + " (Kafka's " + key + "="
                        + settings.get(key) + ") is not supported by Tandem: " + verdict.reason());
            }
        });
        String keyStore = trimmed(settings, KEYSTORE_LOCATION);
        String trustStore = trimmed(settings, TRUSTSTORE_LOCATION);
        ServerTls.Settings stores = new ServerTls.Settings(storeType(settings, KEYSTORE_TYPE, keyStore), keyStore,
                settings.get(KEYSTORE_PASSWORD), null, null, null, storeType(settings, TRUSTSTORE_TYPE, trustStore),
                trustStore, settings.get(TRUSTSTORE_PASSWORD), null, ClientAuth.NONE, List.of(), List.of(), null, null);
        // Kafka turns the algorithm into ZooKeeper's hostnameVerification: true exactly when it is HTTPS.
        boolean verifyHostname = settings.getOrDefault(ENDPOINT_IDENTIFICATION, "HTTPS").trim()
                .toUpperCase(Locale.ROOT).equals("HTTPS");
        // Kafka 3.9's ZooKeeper client (3.8) checks the name as its X509Util sets it up: in FIPS mode the JDK's HTTPS
        // check of the host dialled; otherwise, with a trust store, ZKTrustManager (the address dialled, else its
        // host name by reverse lookup); without a trust store, no check of the name at all.
        boolean fipsMode = Boolean.parseBoolean(System.getProperty(FIPS_MODE, "false").trim());
        boolean addressThenName = verifyHostname && !fipsMode && trustStore != null;
        SSLContext context;
        try {
            context = ServerTls.client(stores, addressThenName
                    ? trust -> new AddressThenNameTrustManager(trust, lookup) : null);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("TLS to ZooKeeper (" + KEYSTORE_LOCATION + " " + keyStore + ", "
                    + TRUSTSTORE_LOCATION + " " + trustStore + "): " + e.getMessage(), e);
        }
        String protocol = settings.getOrDefault(PROTOCOL, DEFAULT_PROTOCOL).trim();
        String[] protocols = list(settings.get(ENABLED_PROTOCOLS));
        // The ZooKeeper client makes its context for zookeeper.ssl.protocol and leaves the engine that context's
        // protocols (TLSv1.2 alone for Kafka's default TLSv1.2, TLSv1.3 and TLSv1.2 for TLSv1.3) and the JDK's cipher
        // suites. Its 3.8 client does not apply the two lists; Tandem applies them when set (README).
        String[] enabledProtocols = protocols.length == 0
                ? ZooKeeperTlsDefaults.contextDefaults(protocol).toArray(String[]::new) : protocols;
        String[] ciphers = list(settings.get(CIPHER_SUITES));
        boolean endpointIdentification = verifyHostname && fipsMode;
        ClientTls engines = new ClientTls() {
            @Override
            public SSLEngine newEngine(String host, int port) {
                SSLEngine engine = context.createSSLEngine(host, port);
                engine.setUseClientMode(true);
                SSLParameters parameters = engine.getSSLParameters();
                parameters.setProtocols(enabledProtocols);
                if (ciphers.length > 0) parameters.setCipherSuites(ciphers);
                if (endpointIdentification) parameters.setEndpointIdentificationAlgorithm("HTTPS");
                engine.setSSLParameters(parameters);
                return engine;
            }

            @Override
            public Executor delegatedTasks() {
                return addressThenName ? checks : null;
            }
        };
        boolean identifies = keyStore != null && trimmed(settings, SOCKET) != null;
        return new ZkClientTls(engines, identifies);
    }

    /** The start-up verdict on a {@code zookeeper.ssl.*} key (BrokerConfigPolicy's). */
    public static Verdict verdict(String key, String value, Map<String, String> settings) {
        switch (key) {
            case ENABLE -> {
                if (!isBoolean(value)) return notBoolean(key, value);
                if (value.equalsIgnoreCase("false")) return Verdict.IMPLEMENTED;
                String socket = trimmed(withSystemProperties(settings), SOCKET);
                return NETTY_SOCKET.equals(socket) ? Verdict.IMPLEMENTED : Verdict.refused("TLS to ZooKeeper needs "
                        + SOCKET + "=" + NETTY_SOCKET + ", as in Kafka (" + (socket == null ? "unset"
                        : socket) + " speaks no TLS, and the broker would reach a secure port in plaintext)");
            }
            case CRL, OCSP -> {
                if (!isBoolean(value)) return notBoolean(key, value);
                return value.equalsIgnoreCase("false") ? Verdict.IMPLEMENTED : Verdict.refused("certificate "
                        + "revocation checks (" + (key.equals(CRL) ? "CRL" : "OCSP") + ") are not implemented for "
                        + "TLS to ZooKeeper");
            }
            case KEYSTORE_TYPE, TRUSTSTORE_TYPE -> {
                return STORE_TYPES.contains(value.toUpperCase(Locale.ROOT)) ? Verdict.IMPLEMENTED
                        : Verdict.refused("store type " + value + " is not implemented (JKS, PKCS12, PEM)");
            }
            case KEYSTORE_LOCATION, TRUSTSTORE_LOCATION -> {
                String typeKey = key.equals(KEYSTORE_LOCATION) ? KEYSTORE_TYPE : TRUSTSTORE_TYPE;
                if (trimmed(settings, typeKey) != null || typeFromFileName(value) != null) return Verdict.IMPLEMENTED;
                return Verdict.refused("Unable to auto-detect store file type from file name: " + value + " (set "
                        + typeKey + ")");
            }
            case PROTOCOL -> {
                try {
                    SSLContext.getInstance(value);
                    return Verdict.IMPLEMENTED;
                } catch (NoSuchAlgorithmException e) {
                    return Verdict.refused("TLS protocol " + value + " is not available: " + e.getMessage());
                }
            }
            case KEYSTORE_PASSWORD, TRUSTSTORE_PASSWORD, ENABLED_PROTOCOLS, CIPHER_SUITES, ENDPOINT_IDENTIFICATION -> {
                return Verdict.IMPLEMENTED;
            }
            default -> {
                // Not Kafka's (ZooKeeper's own camel-case names are not read from server.properties).
                return Verdict.refused("not one of Kafka's zookeeper.ssl.* keys, and TLS to ZooKeeper reads only "
                        + "those (e.g. " + KEYSTORE_LOCATION + ")");
            }
        }
    }

    /**
     * The settings with Kafka's fallbacks: a key not in server.properties takes the ZooKeeper client's system
     * property (Kafka's ZkConfigs.ZK_SSL_CONFIG_TO_SYSTEM_PROPERTY_MAP, as KafkaConfig reads it), the booleans true
     * only when the property is "true", and hostnameVerification=false meaning no endpoint identification.
     */
    static Map<String, String> withSystemProperties(Map<String, String> settings) {
        Map<String, String> effective = new java.util.HashMap<>(settings);
        SYSTEM_PROPERTIES.forEach((key, property) -> {
            String value = System.getProperty(property);
            if (settings.containsKey(key) || value == null) return;
            effective.put(key, switch (key) {
                case ENABLE, CRL, OCSP -> Boolean.toString(value.trim().equals("true"));
                case ENDPOINT_IDENTIFICATION -> value.trim().equals("false") ? "" : "HTTPS";
                default -> value;
            });
        });
        return effective;
    }

    /** ZooKeeper's KeyStoreFileType.fromPropertyValueOrFileName: the type if set, else by the file's extension. */
    private static String storeType(Map<String, String> settings, String typeKey, String location) {
        String type = trimmed(settings, typeKey);
        if (type != null) return type.toUpperCase(Locale.ROOT);
        if (location == null) return "JKS";
        String byName = typeFromFileName(location);
        if (byName == null) {
            throw new IllegalArgumentException("Unable to auto-detect store file type from file name: " + location);
        }
        return byName;
    }

    private static String typeFromFileName(String location) {
        int dot = location.lastIndexOf('.');
        return switch (dot < 0 ? "" : location.substring(dot)) {
            case ".jks" -> "JKS";
            case ".pem" -> "PEM";
            case ".p12" -> "PKCS12";
            default -> null;
        };
    }

    private static boolean isBoolean(String value) {
        return value.equalsIgnoreCase("true") || value.equalsIgnoreCase("false");
    }

    private static Verdict notBoolean(String key, String value) {
        return Verdict.refused("Invalid value " + value + " for configuration " + key
                + ": Expected value to be either true or false");
    }

    private static String[] list(String value) {
        if (value == null || value.isBlank()) return new String[0];
        return Arrays.stream(value.split(",")).map(String::trim).filter(s -> !s.isEmpty()).toArray(String[]::new);
    }

    private static String trimmed(Map<String, String> settings, String key) {
        String value = settings.get(key);
        return value == null || value.isBlank() ? null : value.trim();
    }
}
