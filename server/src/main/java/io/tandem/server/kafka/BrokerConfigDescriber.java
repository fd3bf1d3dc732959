package io.tandem.server.kafka;

import io.tandem.server.kafka.TopicConfigs.DynamicLayers;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import io.tandem.server.kafka.security.ListenerSecurity;
import io.tandem.server.kafka.security.ListenerTls;

/**
 * DescribeConfigs(BROKER) as Kafka answers it (its createBrokerConfigEntry and configSynonyms), over what is in force
 * in Tandem: the keys Tandem honours ({@link BrokerConfigKeys#IMPLEMENTED}) with their dynamic, static and default
 * values, or, for the cluster-default resource "", the dynamic cluster defaults only. Kafka's PASSWORD keys
 * ({@link BrokerConfigKeys#PASSWORDS}, e.g. {@code delegation.token.secret.key}, {@code ssl.keystore.password}) and
 * dynamic per-listener passwords are listed as Kafka lists them: value null, isSensitive true.
 */
public final class BrokerConfigDescriber {
    /** One synonym of a described key, most significant first. */
    public record Synonym(String name, String value, ConfigSource source) {
    }

    /**
     * One described key: its value, where that comes from, whether it can change at runtime, whether it is
     * sensitive (a password: value and synonym values null, as Kafka's createBrokerConfigEntry), and its synonyms.
     */
    public record Entry(String name, String value, ConfigSource source, boolean readOnly, String type,
                        boolean sensitive, List<Synonym> synonyms) {
    }

    private static final String LISTENER_PREFIX = "listener.name.";
    /** AclAuthorizer's own keys, read from server.properties beside Kafka's. */
    private static final List<String> AUTHORIZER_KEYS = List.of("allow.everyone.if.no.acl.found", "super.users");
    /** The ssl.* / sasl.* keys Tandem honours that Kafka 3.9 defines: listed set or not, as Kafka lists them. */
    private static final Set<String> SECURITY_KEYS = BrokerConfigPolicy.honouredSecurityKeys().stream()
            .filter(k -> BrokerConfigKeys.KAFKA.containsKey(k) && BrokerConfigKeys.KAFKA.get(k).inKafka39())
            .collect(java.util.stream.Collectors.toUnmodifiableSet());

    private final Map<String, String> staticSettings;
    private final Map<String, String> instanceDefaults;
    /** The {@code listener.name.<listener>.} keys of server.properties that Tandem honours (it refuses the others). */
    private final Set<String> staticListenerKeys;

    /**
     * @param staticSettings   the broker's server.properties settings
     * @param instanceDefaults Tandem's defaults that depend on the node (the log directory under the data directory,
     *                         the listener on the configured port), over {@link BrokerConfigKeys#defaultValue}
     */
    public BrokerConfigDescriber(Map<String, String> staticSettings, Map<String, String> instanceDefaults) {
        this.staticSettings = Map.copyOf(staticSettings);
        this.instanceDefaults = Map.copyOf(instanceDefaults);
        Set<String> listenerKeys = new java.util.HashSet<>();
        staticSettings.forEach((name, value) -> {
            if (name.startsWith(LISTENER_PREFIX) && value != null && BrokerConfigPolicy.verdict(name, value,
                    staticSettings) == io.tandem.server.ConfigKeys.Verdict.IMPLEMENTED) {
                listenerKeys.add(name);
            }
        });
        this.staticListenerKeys = Set.copyOf(listenerKeys);
    }

    /** Every key in force on this broker ({@code perBroker}) or the cluster-wide dynamic defaults (not). */
    public List<Entry> describe(boolean perBroker, DynamicLayers dynamic) {
        List<Entry> entries = new ArrayList<>();
        if (!perBroker) {
            for (String name : new TreeSet<>(dynamic.clusterDefault().keySet())) {
                entries.add(entry(name, dynamic.clusterDefault().get(name), false, dynamic));
            }
            return entries;
        }
        TreeSet<String> names = new TreeSet<>(BrokerConfigKeys.IMPLEMENTED);
        names.addAll(BrokerConfigKeys.PASSWORDS);
        names.addAll(SECURITY_KEYS);
        // As the 3.9 broker answers: the keys Tandem honours that 3.9 lacks or keeps internal (share groups' and
        // KIP-848's 4.x keys, producer.id.expiration.check.interval.ms) are not listed.
        names.removeIf(name -> !BrokerConfigKeys.describedByKafka39(name));
        for (String name : names) {
            String value = dynamic.perBroker().get(name);
            if (value == null) value = dynamic.clusterDefault().get(name);
            if (value == null && staticSettings.get(name) != null) value = staticSettings.get(name).trim();
            // Unset, node.id is the broker's id (broker.id's, else Tandem's default for it), as Kafka 3.9 has it.
            if (value == null && name.equals("node.id")) {
                value = nodeIdFromBrokerId() != null ? nodeIdFromBrokerId() : defaultValue("broker.id");
            }
            if (value == null) value = defaultValue(name);
            entries.add(entry(name, value, true, dynamic));
        }
        // Per-listener keys, as Kafka lists them (its allConfigs: every key the broker started with, and the dynamic
        // ones): those set on this broker (a TLS listener's reloaded stores, a login module) over the static ones of
        // server.properties that Tandem honours.
        TreeSet<String> listenerKeys = new TreeSet<>(staticListenerKeys);
        for (String name : dynamic.perBroker().keySet()) {
            if (name.startsWith(LISTENER_PREFIX)) listenerKeys.add(name);
        }
        for (String name : listenerKeys) {
            String value = dynamic.perBroker().get(name);
            if (value == null) value = staticSettings.get(name).trim();
            entries.add(entry(name, value, true, dynamic));
        }
        // The authorizer's keys are not KafkaConfig's: Kafka lists them, as every key it started with, under an
        // unknown type, and so as sensitive (KafkaConfig.maybeSensitive of no type), value null.
        for (String name : AUTHORIZER_KEYS) {
            if (staticSettings.get(name) == null) continue;
            entries.add(new Entry(name, null, ConfigSource.STATIC_BROKER_CONFIG, true, "UNKNOWN", true,
                    List.of(new Synonym(name, null, ConfigSource.STATIC_BROKER_CONFIG))));
        }
        return entries;
    }

    private Entry entry(String name, String value, boolean perBroker, DynamicLayers dynamic) {
        List<Synonym> synonyms = new ArrayList<>(synonyms(name, dynamic));
        // The cluster-default resource lists only the cluster defaults among them, as Kafka's createBrokerConfigEntry
        // filters them (after dropping, so a per-broker synonym under another name still drops what follows it).
        if (!perBroker) synonyms.removeIf(s -> s.source() != ConfigSource.DYNAMIC_DEFAULT_BROKER_CONFIG);
        ConfigSource source = synonyms.isEmpty() ? ConfigSource.DEFAULT_CONFIG : synonyms.get(0).source();
        boolean sensitive = sensitive(name);
        // Kafka's readOnly is "not in DynamicBrokerConfig.AllDynamicConfigs", which holds base names only, so every
        // listener.name.<l>. key is read-only there, even one set dynamically. Elsewhere it is here also "not one
        // Tandem applies at runtime": a TLS listener's stores and passwords are (under the listener prefix, as in
        // Kafka), sasl.jaas.config is not; GSSAPI's Kerberos keys are stored and in force from the next start, as
        // in Kafka (kafka.DynamicListenerSasl).
        // Kafka's set holds each topic default under its first synonym only (log.retention.ms, log.roll.ms), so
        // log.retention.hours and log.roll.hours are read-only there although they set the same value.
        boolean readOnly = name.startsWith(LISTENER_PREFIX)
                || (!BrokerConfigKeys.DYNAMIC.contains(name) && !ListenerSecurity.KERBEROS_KEYS.contains(name)
                && !(name.startsWith("ssl.") && (sensitive || ListenerTls.RELOADABLE_KEYS.contains(name))));
        if (sensitive) value = null;
        String type = name.startsWith(LISTENER_PREFIX) && sensitive ? "PASSWORD" : BrokerConfigKeys.type(name);
        return new Entry(name, value, source, readOnly, type, sensitive, List.copyOf(synonyms));
    }

    /**
     * Kafka's configSynonyms for a broker key: each of its synonyms ({@link BrokerConfigKeys#synonyms}) set
     * dynamically on this broker, then as a cluster default, then statically, then Kafka's non-null defaults, less the
     * leading ones not named {@code name} (log.retention.hours=168 is no synonym of log.retention.ms when nothing sets
     * log.retention.ms). Values as set, not converted; DescribeConfigs(TOPIC) lists these under a topic key too.
     */
    public List<Synonym> synonyms(String name, DynamicLayers dynamic) {
        List<String> names = BrokerConfigKeys.synonyms(name);
        List<Synonym> synonyms = new ArrayList<>();
        add(synonyms, names, dynamic.perBroker(), ConfigSource.DYNAMIC_BROKER_CONFIG);
        add(synonyms, names, dynamic.clusterDefault(), ConfigSource.DYNAMIC_DEFAULT_BROKER_CONFIG);
        add(synonyms, names, staticSettings, ConfigSource.STATIC_BROKER_CONFIG);
        if (name.equals("node.id") && staticSettings.get(name) == null && nodeIdFromBrokerId() != null) {
            synonyms.add(new Synonym(name, nodeIdFromBrokerId(), ConfigSource.STATIC_BROKER_CONFIG));
        }
        for (String n : names) {
            String d = defaultValue(n);
            if (d != null) synonyms.add(new Synonym(n, d, ConfigSource.DEFAULT_CONFIG));
        }
        // As Kafka does: synonyms more significant than the key itself but under another name are left out.
        while (!synonyms.isEmpty() && !synonyms.get(0).name().equals(name)) synonyms.remove(0);
        if (sensitive(name)) synonyms.replaceAll(s -> new Synonym(s.name(), null, s.source()));
        return List.copyOf(synonyms);
    }

    /**
     * Kafka 3.9 in ZooKeeper mode copies broker.id into node.id when node.id is not set (KafkaConfig's
     * populateSynonyms), so it describes node.id as a static setting of broker.id's value.
     */
    private String nodeIdFromBrokerId() {
        String brokerId = staticSettings.get("broker.id");
        return brokerId == null ? null : brokerId.trim();
    }

    /** Kafka's maybeSensitive: a PASSWORD key, also under a listener prefix. */
    private static boolean sensitive(String name) {
        return BrokerConfigKeys.PASSWORDS.contains(name) || DynamicPasswords.isPasswordConfig(name);
    }

    private static void add(List<Synonym> synonyms, List<String> names, Map<String, String> values,
                            ConfigSource source) {
        for (String n : names) {
            String value = values.get(n);
            if (value != null) synonyms.add(new Synonym(n, value.trim(), source));
        }
    }

    private String defaultValue(String name) {
        return instanceDefaults.containsKey(name) ? instanceDefaults.get(name) : BrokerConfigKeys.defaultValue(name);
    }
}
