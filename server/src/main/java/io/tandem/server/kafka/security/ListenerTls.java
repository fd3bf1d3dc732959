package io.tandem.server.kafka.security;

import io.netty.handler.ssl.SslContext;
import io.tandem.server.tls.ServerTls.CertificateEntry;
import io.tandem.server.tls.StoreFingerprint;

import javax.net.ssl.SSLContext;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.function.Function;

/**
 * A TLS listener's server context, which dynamic broker configuration can replace while the broker runs, as Kafka's
 * SslFactory does (KIP-226): {@code listener.name.<listener>.ssl.keystore.*} / {@code ssl.truststore.*} set on this
 * broker's BROKER resource override the static keys. The context is rebuilt when one of those values changes or when
 * a store file changed on disk since it was loaded (so setting the same path again reloads a file rewritten in
 * place); otherwise it is kept. Kafka tells a changed file by its modification time; here it is told by its content
 * ({@link StoreFingerprint}), which also catches a store replaced through links whose new file is not newer (a
 * Kubernetes secret whose {@code ..data} link was swapped to files copied with their times kept). As in Kafka, the
 * new key store must hold as many certificates as the old one, with the same subject and subject alternative names
 * (unless {@code ssl.allow.dn.changes} / {@code ssl.allow.san.changes}), and a key store or trust store cannot be added to, or a key store removed from, a listener. New connections get the
 * new context; connections already open keep the TLS session they have. On the inter-broker listener the broker's
 * own TLS client ({@link #attachInterBrokerClient}) is rebuilt from the same stores and replaced with the server
 * side, so its connections to other brokers present the reloaded certificate and trust the reloaded trust store.
 */
public final class ListenerTls {
    /** The keys whose dynamic update Tandem applies (Kafka's SslConfigs.RECONFIGURABLE_CONFIGS, the store part). */
    public static final Set<String> RELOADABLE_KEYS = Set.of("ssl.keystore.type", "ssl.keystore.location",
            "ssl.keystore.password", "ssl.key.password", "ssl.keystore.key", "ssl.keystore.certificate.chain",
            "ssl.truststore.type", "ssl.truststore.location", "ssl.truststore.password", "ssl.truststore.certificates");

    private final String listenerName;
    /** A key's static value for this listener: {@code listener.name.<listener>.<key>} first, then {@code <key>}. */
    private final Function<String, String> staticSetting;
    private final boolean allowDnChanges;
    private final boolean allowSanChanges;
    private volatile Loaded current;
    /** The broker's inter-broker TLS client, when this is the inter-broker listener; null otherwise. */
    private volatile ReloadableSslContext interBrokerClient;

    /** A loaded context with what it was built from: the dynamic overrides and the store files' content hashes. */
    public static final class Loaded {
        private final SslContext context;
        private final Map<String, String> overrides;
        private final Map<String, String> values;
        private final String keyStoreContent;
        private final String trustStoreContent;
        private final List<CertificateEntry> certificates;
        private final boolean keyStore;
        private final boolean trustStore;
        /** The inter-broker client context from the same stores, null when this listener has none to reload. */
        private SSLContext client;

        private Loaded(SslContext context, Map<String, String> overrides, Map<String, String> values,
                       String keyStoreContent, String trustStoreContent, List<CertificateEntry> certificates,
                       boolean keyStore, boolean trustStore) {
            this.context = context;
            this.overrides = overrides;
            this.values = values;
            this.keyStoreContent = keyStoreContent;
            this.trustStoreContent = trustStoreContent;
            this.certificates = certificates;
            this.keyStore = keyStore;
            this.trustStore = trustStore;
        }
    }

    private ListenerTls(String listenerName, Function<String, String> staticSetting) {
        this.listenerName = listenerName;
        this.staticSetting = staticSetting;
        this.allowDnChanges = Boolean.parseBoolean(String.valueOf(staticSetting.apply("ssl.allow.dn.changes")).trim());
        this.allowSanChanges = Boolean.parseBoolean(String.valueOf(staticSetting.apply("ssl.allow.san.changes")).trim());
    }

    /** Loads the static stores; an IllegalArgumentException names what cannot be honoured (a start-up error). */
    static ListenerTls load(String listenerName, Function<String, String> staticSetting) {
        ListenerTls tls = new ListenerTls(listenerName, staticSetting);
        tls.current = tls.build(Map.of());
        return tls;
    }

    public String listenerName() {
        return listenerName;
    }

    /** The context new connections get. */
    public SslContext context() {
        return current.context;
    }

    /**
     * Checks a new set of this listener's dynamic overrides (base key to value, e.g. {@code ssl.keystore.location})
     * and builds the context they give: null when nothing changed (same values, store files untouched), else the
     * context to {@link #install}. An IllegalArgumentException carries Kafka's message.
     */
    public Loaded prepare(Map<String, String> overrides) {
        Loaded now = current;
        Map<String, String> next = Map.copyOf(overrides);
        Function<String, String> setting = setting(next);
        if (values(setting).equals(now.values)
                && Objects.equals(content(setting.apply("ssl.keystore.location")), now.keyStoreContent)
                && Objects.equals(content(setting.apply("ssl.truststore.location")), now.trustStoreContent)) {
            return null;
        }
        try {
            Loaded candidate = build(next);
            if (now.keyStore && !candidate.keyStore) {
                throw new IllegalArgumentException("Cannot remove the SSL keystore from an existing listener for "
                        + "which a keystore was configured.");
            }
            ensureCompatible(candidate.certificates, now.certificates);
            if (!now.trustStore && candidate.trustStore) {
                throw new IllegalArgumentException("Cannot add SSL truststore to an existing listener for which no "
                        + "truststore was configured.");
            }
            // Built now, so a store the client side cannot use is refused before anything is stored.
            if (interBrokerClient != null) candidate.client = SslContexts.client(setting(next));
            return candidate;
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("Validation of dynamic config update of SSLFactory failed: "
                    + "org.apache.kafka.common.config.ConfigException: " + e.getMessage(), e);
        }
    }

    /** Puts a prepared context in force for new connections. */
    public synchronized void install(Loaded prepared) {
        if (prepared == null) return;
        current = prepared;
        ReloadableSslContext client = interBrokerClient;
        if (client != null && prepared.client != null) client.replace(prepared.client);
    }

    /**
     * Makes this (the inter-broker listener) reload the broker's TLS client with its stores from now on; the client
     * was built from the same static settings.
     */
    public void attachInterBrokerClient(ReloadableSslContext client) {
        this.interBrokerClient = client;
    }

    /** The overrides in force. */
    public Map<String, String> overrides() {
        return current.overrides;
    }

    private Loaded build(Map<String, String> overrides) {
        Function<String, String> setting = setting(overrides);
        String keyStoreContent = content(setting.apply("ssl.keystore.location"));
        String trustStoreContent = content(setting.apply("ssl.truststore.location"));
        SslContext context = SslContexts.server(setting);
        return new Loaded(context, overrides, values(setting), keyStoreContent, trustStoreContent,
                SslContexts.certificates(setting), true, SslContexts.hasTrustStore(setting));
    }

    /** Kafka's SslFactory.CertificateEntries.ensureCompatible, with its words. */
    private void ensureCompatible(List<CertificateEntry> next, List<CertificateEntry> now) {
        if (next.size() != now.size()) {
            throw new IllegalArgumentException(String.format("Keystore entries do not match, existing store contains "
                    + "%d entries, new store contains %d entries", now.size(), next.size()));
        }
        for (int i = 0; i < next.size(); i++) {
            CertificateEntry n = next.get(i);
            CertificateEntry o = now.get(i);
            if (!allowDnChanges && !Objects.equals(n.subject(), o.subject())
                    && !n.subject().getName().equalsIgnoreCase(o.subject().getName())) {
                throw new IllegalArgumentException(String.format("Keystore DistinguishedName does not match: "
                        + " existing={alias=%s, DN=%s}, new={alias=%s, DN=%s}", o.alias(), o.subject(), n.alias(),
                        n.subject()));
            }
            if (!allowSanChanges && !Objects.equals(n.subjectAltNames(), o.subjectAltNames())) {
                throw new IllegalArgumentException(String.format("Keystore SubjectAltNames do not match: "
                        + " existing={alias=%s, SAN=%s}, new={alias=%s, SAN=%s}", o.alias(), o.subjectAltNames(),
                        n.alias(), n.subjectAltNames()));
            }
        }
    }

    /** Dynamic overrides first, then the static keys (Kafka's DYNAMIC_BROKER_CONFIG over STATIC_BROKER_CONFIG). */
    private Function<String, String> setting(Map<String, String> overrides) {
        return key -> overrides.containsKey(key) ? overrides.get(key) : staticSetting.apply(key);
    }

    private static Map<String, String> values(Function<String, String> setting) {
        Map<String, String> values = new LinkedHashMap<>();
        for (String key : RELOADABLE_KEYS) {
            String value = setting.apply(key);
            if (value != null) values.put(key, value);
        }
        return values;
    }

    /** A store file's content hash, links followed; null when there is no file or it cannot be read. */
    private static String content(String location) {
        if (location == null || location.isBlank()) return null;
        StoreFingerprint fingerprint;
        try {
            fingerprint = StoreFingerprint.of(Path.of(location.trim()));
        } catch (RuntimeException e) {
            return null; // not a path: the store's loader says why
        }
        return fingerprint == null ? null : fingerprint.sha256();
    }
}
