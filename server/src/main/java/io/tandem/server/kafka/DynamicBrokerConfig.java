package io.tandem.server.kafka;

import io.tandem.server.kafka.BrokerConfigKeys.UpdateMode;
import io.tandem.server.kafka.TopicConfigs.DynamicLayers;
import io.tandem.server.kafka.metadata.ClusterMetadata.TopicInfo;
import io.tandem.server.kafka.metadata.ConfigChangeListener;
import io.tandem.server.kafka.metadata.KafkaZkLayout;
import io.tandem.server.kafka.metadata.ZnodeStore;
import io.tandem.server.kafka.network.ConnectionLimitSettings;
import io.tandem.server.kafka.quota.ConnectionRateQuotas;
import io.tandem.server.kafka.security.ListenerTls;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

import static io.tandem.server.kafka.ErrorCodes.INVALID_CONFIG;
import static io.tandem.server.kafka.ErrorCodes.INVALID_REQUEST;

/**
 * Dynamic broker configuration (AlterConfigs / IncrementalAlterConfigs on BROKER resources, KIP-226), kept where Kafka
 * keeps it in ZooKeeper: {@code /config/brokers/<id>} for one broker, {@code /config/brokers/<default>} for the
 * cluster-wide default (resource name ""). A change is checked as Kafka checks it, with Kafka's errors, and then only
 * accepted if Tandem applies it ({@link BrokerConfigKeys#DYNAMIC}); what is stored is what is in force, and is what
 * DescribeConfigs reports. Changes made through other brokers (or Kafka's tools) are picked up as Kafka's
 * ZkConfigManager picks them up, by the notification each change leaves under {@code /config/changes}
 * ({@link ConfigChangeListener}); nothing is read while nothing changes.
 *
 * <p>A TLS listener's key and trust stores ({@code listener.name.<listener>.ssl.keystore.*} / {@code .ssl.truststore.*}
 * on this broker's resource) are reloaded as Kafka's SslFactory does ({@link ListenerTls}): every change of this
 * broker's settings, even one that leaves them as they are, reloads a store file rewritten on disk, and a key store
 * whose certificates do not match the current ones is refused with Kafka's message before anything is stored.
 * Password keys are stored encrypted as Kafka 3.9 stores them ({@link DynamicPasswords}). A SASL listener's login
 * modules and GSSAPI's Kerberos keys are stored and, as in Kafka, in force from the broker's next start
 * ({@link DynamicListenerSasl}).
 */
public final class DynamicBrokerConfig {
    private static final System.Logger LOG = System.getLogger(DynamicBrokerConfig.class.getName());
    static final String CONFIG_BROKERS = "/config/brokers";
    /** Kafka's entity name for the cluster-wide default of every broker's dynamic configuration. */
    static final String DEFAULT_ENTITY = "<default>";
    /** The entity types of Kafka's config change notifications this class follows. */
    private static final String BROKERS_ENTITY_TYPE = "brokers";
    private static final String TOPICS_ENTITY_TYPE = "topics";
    private static final String IO_THREADS = "num.io.threads";
    private static final String CLEANER_THREADS = "log.cleaner.threads";
    private static final String MAX_CONNECTIONS = "max.connections";
    private static final String MAX_CONNECTIONS_PER_IP = "max.connections.per.ip";
    private static final String UNCLEAN_LEADER_ELECTION = "unclean.leader.election.enable";
    private static final String LISTENER_PREFIX = "listener.name.";
    /** Kafka's per-listener keys that may also be set cluster-wide (DynamicBrokerConfig.ClusterLevelListenerConfigs). */
    private static final Set<String> CLUSTER_LEVEL_LISTENER_CONFIGS = Set.of("max.connections",
            "max.connection.creation.rate", "num.network.threads");

    private final KafkaBroker broker;
    private final ZnodeStore store;
    private final int brokerId;
    /** The SASL listeners' login modules and Kerberos settings, in force from the next start. */
    private final DynamicListenerSasl sasl;
    /** Whether the SASL listeners were started with the stored login modules (once, at the first read). */
    private boolean loginsStarted;
    /** The TLS listeners, by lower-case listener name (the form of the {@code listener.name.} prefix). */
    private final Map<String, ListenerTls> tlsListeners = new LinkedHashMap<>();
    /** The settings as last read from (or written to) the store, passwords encrypted as stored. */
    private DynamicLayers lastStored;
    /** The password keys' encryption. */
    private final DynamicPasswords passwords;
    /** Whether the stored passwords were checked for the old secret (once, at the first read, as Kafka does). */
    private boolean reEncrypted;
    /** Handlers of the change notifications of entity types other than brokers and topics (group configs). */
    private volatile Map<String, ConfigChangeListener.Handler> otherEntityTypes = Map.of();

    DynamicBrokerConfig(KafkaBroker broker, ZnodeStore store) {
        this.broker = broker;
        this.store = store;
        this.brokerId = broker.config().brokerId();
        this.passwords = new DynamicPasswords(broker.passwordEncoder(), broker.oldPasswordEncoder());
        broker.listenerTls().forEach((name, tls) -> tlsListeners.put(name.toLowerCase(Locale.ROOT), tls));
        this.sasl = new DynamicListenerSasl(broker.listenerSecurity(), broker.interBrokerSecurity().listenerName(),
                broker.interBrokerSaslMechanism());
    }

    /**
     * Follows the config change notifications and reads the stored settings: the watch is set and the newest
     * notification noted first, so a change made while this reads is applied again rather than missed. The
     * notifications' entities are re-read on {@code executor}; those of {@code otherEntityTypes} (group configs) go
     * to their handlers. One listener for all: the store keeps one watch listener per listening class and path.
     */
    void start(java.util.concurrent.Executor executor, Map<String, ConfigChangeListener.Handler> otherEntityTypes)
            throws Exception {
        this.otherEntityTypes = Map.copyOf(otherEntityTypes);
        new ConfigChangeListener(store, executor, this::onConfigChange).start();
        refresh();
    }


    /**
     * A config change notification (Kafka's BrokerConfigHandler and TopicConfigHandler): this broker's settings or
     * the cluster default are read again; a topic this broker knows gets its overrides read again, and its logs the
     * new settings (a change made through another broker reached only that broker's cache before). Quotas and SCRAM
     * credentials follow the same notifications in their own listeners.
     */
    private void onConfigChange(String entityType, String entityName) throws Exception {
        if (entityType.equals(BROKERS_ENTITY_TYPE)) {
            if (entityName.equals(DEFAULT_ENTITY) || entityName.trim().equals(Integer.toString(brokerId))) refresh();
        } else if (entityType.equals(TOPICS_ENTITY_TYPE)) {
            TopicInfo reloaded = broker.metadata().configOverrides().reloadTopicConfig(entityName);
            Map<String, String> overrides;
            if (reloaded != null) {
                overrides = reloaded.configs();
                broker.topics().topicConfigChanged(reloaded);
            } else {
                // Not in the cache (before the controller's first UpdateMetadata, say), yet its logs may be open
                // here: they take the stored overrides, as Kafka's TopicConfigHandler updates every log it holds.
                overrides = broker.metadata().storedTopicConfigs(List.of(entityName)).getOrDefault(entityName, Map.of());
                broker.topics().heldLogsConfigChanged(entityName, overrides);
            }
            // Kafka's TopicConfigHandler: unclean election turned on for the topic elects its leaderless partitions.
            var controller = broker.controller();
            if (controller != null && Boolean.parseBoolean(overrides.getOrDefault(UNCLEAN_LEADER_ELECTION, "").trim())) {
                controller.enableTopicUncleanLeaderElection(entityName);
            }
        } else {
            ConfigChangeListener.Handler other = otherEntityTypes.get(entityType);
            if (other != null) other.changed(entityType, entityName);
        }
    }

    /** Reads the stored settings and applies them (at start-up, and on each change notification naming them). */
    synchronized void refresh() throws Exception {
        if (!reEncrypted) {
            reEncrypted = true;
            passwords.reEncryptWithCurrentSecret(store, path(Integer.toString(brokerId)), Integer.toString(brokerId));
        }
        DynamicLayers stored = new DynamicLayers(
                KafkaZkLayout.decodeEntityConfig(store.getData(path(DEFAULT_ENTITY))),
                KafkaZkLayout.decodeEntityConfig(store.getData(path(Integer.toString(brokerId)))));
        if (stored.equals(lastStored)) return; // unchanged: nothing to apply, nothing to log (or decrypt) again
        lastStored = stored;
        DynamicLayers usable = new DynamicLayers(
                usable(DEFAULT_ENTITY, passwords.decrypted(DEFAULT_ENTITY, stored.clusterDefault()), false),
                usable(Integer.toString(brokerId), passwords.decrypted(Integer.toString(brokerId), stored.perBroker()),
                        true));
        if (!loginsStarted) {
            loginsStarted = true;
            sasl.start(usable.perBroker());
        }
        if (!usable.equals(broker.topicConfigs().dynamic())) {
            Map<ListenerTls, ListenerTls.Loaded> reloads;
            try {
                reloads = prepareTls(usable.perBroker());
            } catch (ApiException e) {
                LOG.log(System.Logger.Level.ERROR, "Stored TLS store settings of broker {0} are not applied: {1}",
                        brokerId, e.getMessage());
                reloads = Map.of();
            }
            apply(usable, reloads);
        }
    }

    /** The resource's settings in force (per broker for the broker's id, cluster default for ""). */
    public Map<String, String> current(String resourceName) {
        DynamicLayers layers = broker.topicConfigs().dynamic();
        return new LinkedHashMap<>(perBroker(resourceName) ? layers.perBroker() : layers.clusterDefault());
    }

    /**
     * Replaces the resource's settings with {@code settings}, after Kafka's checks (errors as Kafka answers them) and
     * Tandem's (a key Tandem does not apply at runtime is refused, naming it). {@code validateOnly} stores nothing.
     */
    public synchronized void alter(String resourceName, Map<String, String> settings, boolean validateOnly) {
        boolean perBroker = perBroker(resourceName);
        validate(settings, perBroker);
        DynamicLayers now = broker.topicConfigs().dynamic();
        DynamicLayers next = perBroker ? new DynamicLayers(now.clusterDefault(), settings)
                : new DynamicLayers(settings, now.perBroker());
        validateApplied(next, now);
        // Kafka reloads the stores of every TLS listener on any change of this broker's settings (files rewritten
        // in place are then picked up); a change of the cluster default leaves them alone.
        Map<ListenerTls, ListenerTls.Loaded> reloads = perBroker ? prepareTls(next.perBroker()) : Map.of();
        // As Kafka (ZkAdminManager): passwords are encrypted only when stored, so validateOnly never needs the secret.
        if (validateOnly) return;
        Map<String, String> persisted = passwords.encrypted(settings, perBroker);
        String entity = perBroker ? Integer.toString(brokerId) : DEFAULT_ENTITY;
        try {
            store.setData(path(entity), KafkaZkLayout.encodeEntityConfig(persisted));
            store.createSequential(KafkaZkLayout.CONFIG_CHANGES + "/" + KafkaZkLayout.CONFIG_CHANGE_PREFIX,
                    KafkaZkLayout.encodeConfigChange("brokers/" + entity));
        } catch (Exception e) {
            throw new ApiException(ErrorCodes.UNKNOWN_SERVER_ERROR, "cannot store the broker configuration: " + e);
        }
        LOG.log(System.Logger.Level.INFO, "Dynamic broker configuration of {0} is now {1}",
                perBroker ? "broker " + brokerId : "the cluster default", DynamicPasswords.redacted(settings));
        if (settings.keySet().stream().anyMatch(sasl::handles)) {
            LOG.log(System.Logger.Level.INFO, "Changed SASL login modules and Kerberos settings take effect when "
                    + "broker {0} restarts, as in Kafka", brokerId);
        }
        lastStored = perBroker ? new DynamicLayers(lastStoredOr().clusterDefault(), persisted)
                : new DynamicLayers(persisted, lastStoredOr().perBroker());
        apply(next, reloads);
    }

    /**
     * Kafka's DynamicBrokerConfig.validateConfigs, in its order and words, then Tandem's refusal of what it does not
     * apply at runtime.
     */
    private void validate(Map<String, String> settings, boolean perBroker) {
        Set<String> nonDynamic = new HashSet<>();
        Set<String> listenerOnly = new HashSet<>();
        Set<String> brokerOnly = new HashSet<>();
        for (String name : settings.keySet()) {
            BrokerConfigKeys.Key key = BrokerConfigKeys.KAFKA.get(name);
            if (name.startsWith(LISTENER_PREFIX) && name.indexOf('.', LISTENER_PREFIX.length()) > 0
                    && !CLUSTER_LEVEL_LISTENER_CONFIGS.contains(
                            name.substring(name.indexOf('.', LISTENER_PREFIX.length()) + 1))) {
                brokerOnly.add(name); // Kafka: a per-listener setting belongs to one broker
            }
            if (key == null) continue;
            if (key.mode() == UpdateMode.READ_ONLY) nonDynamic.add(name);
            if (key.mode() == UpdateMode.LISTENER_ONLY) listenerOnly.add(name);
            if (key.mode() == UpdateMode.PER_BROKER) brokerOnly.add(name);
        }
        if (!nonDynamic.isEmpty()) {
            throw new ApiException(INVALID_REQUEST, "Cannot update these configs dynamically: " + nonDynamic);
        }
        if (!listenerOnly.isEmpty()) {
            throw new ApiException(INVALID_REQUEST, "These security configs can be dynamically updated only "
                    + "per-listener using the listener prefix: " + listenerOnly);
        }
        for (Map.Entry<String, String> e : settings.entrySet()) {
            // Kafka checks a listener's own setting as its base key (DynamicBrokerConfig.validateConfigTypes).
            String base = listenerConnectionKey(e.getKey());
            String invalid = BrokerConfigKeys.invalidValue(base != null ? base : e.getKey(), e.getValue());
            if (invalid != null) throw new ApiException(INVALID_REQUEST, invalid);
        }
        if (!perBroker && !brokerOnly.isEmpty()) {
            throw new ApiException(INVALID_REQUEST, "Cannot update these configs at default cluster level, broker id "
                    + "must be specified: " + brokerOnly);
        }
        Set<String> notApplied = new HashSet<>(settings.keySet());
        notApplied.removeAll(BrokerConfigKeys.DYNAMIC);
        notApplied.removeIf(name -> tlsStoreKey(name) != null || sasl.handles(name)
                || listenerConnectionKey(name) != null);
        if (!notApplied.isEmpty()) {
            throw new ApiException(INVALID_CONFIG, "Dynamic update of these configs is not supported by Tandem: "
                    + notApplied);
        }
        settings.forEach(sasl::validate);
    }

    /**
     * The base key of a listener's own connection quota ({@code listener.name.<listener>.max.connections} or
     * {@code .max.connection.creation.rate}, Kafka's ListenerConnectionQuota), else null.
     */
    private static String listenerConnectionKey(String name) {
        if (listenerRateKey(name) != null) return ConnectionRateQuotas.BROKER_RATE_KEY;
        return ConnectionLimitSettings.listenerOf(name) != null ? MAX_CONNECTIONS : null;
    }

    /**
     * What Kafka checks once it has built the configuration the change gives (static settings under the cluster
     * default under this broker's): KafkaConfig's per-address rules, then each listener's ConnectionQuota
     * (max.connections and max.connection.creation.rate, its own or the broker's, must be positive when they change).
     * Kafka's errors, words and wrapping.
     */
    private void validateConnectionQuotas(DynamicLayers next, DynamicLayers now) {
        Map<String, String> after = merged(next);
        String perIp = ConnectionLimitSettings.perIpProblem(after.get(MAX_CONNECTIONS_PER_IP),
                after.get(ConnectionLimitSettings.PER_IP_OVERRIDES));
        if (perIp != null) throw new ApiException(INVALID_REQUEST, perIp);
        Map<String, String> before = merged(now);
        for (BrokerConfig.Listener listener : broker.config().listeners()) {
            String prefix = LISTENER_PREFIX + listener.name().toLowerCase(Locale.ROOT) + ".";
            for (String key : List.of(MAX_CONNECTIONS, ConnectionRateQuotas.BROKER_RATE_KEY)) {
                String value = after.getOrDefault(prefix + key, after.get(key));
                if (value == null || value.equals(before.getOrDefault(prefix + key, before.get(key)))) continue;
                if (Integer.parseInt(value.trim()) <= 0) {
                    // ListenerConnectionQuota's ConfigException, as Kafka's processReconfiguration wraps it.
                    throw new ApiException(INVALID_REQUEST, "Invalid value org.apache.kafka.common.config."
                            + "ConfigException: Invalid " + key + " " + value.trim() + " for configuration Invalid "
                            + "dynamic configuration");
                }
            }
        }
    }

    /** The broker's settings with these dynamic layers over its static ones. */
    private Map<String, String> merged(DynamicLayers layers) {
        Map<String, String> merged = new java.util.HashMap<>(broker.staticSettings());
        merged.putAll(layers.clusterDefault());
        merged.putAll(layers.perBroker());
        return merged;
    }

    /**
     * The listener (lower case) of a {@code listener.name.<listener>.max.connection.creation.rate} key, else null.
     */
    private static String listenerRateKey(String name) {
        String suffix = "." + ConnectionRateQuotas.BROKER_RATE_KEY;
        if (!name.startsWith(LISTENER_PREFIX) || !name.endsWith(suffix)) return null;
        String listener = name.substring(LISTENER_PREFIX.length(), name.length() - suffix.length());
        return listener.isEmpty() || listener.contains(".") ? null : listener;
    }

    private DynamicLayers lastStoredOr() {
        return lastStored == null ? DynamicLayers.NONE : lastStored;
    }

    /**
     * The base key ({@code ssl.keystore.location}, ...) of a {@code listener.name.<listener>.<key>} store setting of one
     * of this broker's TLS listeners, which Tandem reloads; null for anything else.
     */
    private String tlsStoreKey(String name) {
        if (!name.startsWith(LISTENER_PREFIX)) return null;
        int dot = name.indexOf('.', LISTENER_PREFIX.length());
        if (dot < 0) return null;
        String listener = name.substring(LISTENER_PREFIX.length(), dot);
        String base = name.substring(dot + 1);
        return tlsListeners.containsKey(listener) && ListenerTls.RELOADABLE_KEYS.contains(base) ? base : null;
    }

    /** Each TLS listener's store overrides among this broker's settings, by base key. */
    private Map<ListenerTls, Map<String, String>> tlsOverrides(Map<String, String> perBroker) {
        Map<ListenerTls, Map<String, String>> overrides = new LinkedHashMap<>();
        for (ListenerTls tls : tlsListeners.values()) overrides.put(tls, new LinkedHashMap<>());
        for (Map.Entry<String, String> e : perBroker.entrySet()) {
            String base = tlsStoreKey(e.getKey());
            if (base == null) continue;
            String listener = e.getKey().substring(LISTENER_PREFIX.length(),
                    e.getKey().indexOf('.', LISTENER_PREFIX.length()));
            overrides.get(tlsListeners.get(listener)).put(base, e.getValue());
        }
        return overrides;
    }

    /**
     * The contexts the TLS listeners get with these settings (those whose settings and files are unchanged are left
     * out); a store that cannot be loaded or does not match is refused with Kafka's message.
     */
    private Map<ListenerTls, ListenerTls.Loaded> prepareTls(Map<String, String> perBroker) {
        Map<ListenerTls, ListenerTls.Loaded> reloads = new LinkedHashMap<>();
        for (Map.Entry<ListenerTls, Map<String, String>> e : tlsOverrides(perBroker).entrySet()) {
            try {
                ListenerTls.Loaded loaded = e.getKey().prepare(e.getValue());
                if (loaded != null) reloads.put(e.getKey(), loaded);
            } catch (IllegalArgumentException error) {
                throw new ApiException(INVALID_REQUEST, error.getMessage());
            }
        }
        return reloads;
    }

    /** Checks that the logs and the handler pool can take the new settings, before anything is stored. */
    private void validateApplied(DynamicLayers next, DynamicLayers now) {
        validateConnectionQuotas(next, now);
        TopicConfigs candidate = broker.topicConfigs().withDynamic(next);
        try {
            candidate.logConfig(Map.of());
        } catch (IllegalArgumentException e) {
            throw new ApiException(INVALID_CONFIG, "Not supported by Tandem's log: " + e.getMessage());
        }
        int current = ioThreads(now);
        int wanted = ioThreads(next);
        // Kafka's DynamicThreadPool bounds: at most double or half of the current pool at once.
        if (wanted < current / 2 || wanted > current * 2) {
            LOG.log(System.Logger.Level.INFO, "Dynamic thread count update validation failed for {0}={1}, value "
                    + "should be between half and double the current value {2}", IO_THREADS, wanted, current);
            throw new ApiException(INVALID_REQUEST, "Invalid dynamic configuration");
        }
        int cleaners = intSetting(now, CLEANER_THREADS, broker.config().logCleanerThreads());
        int wantedCleaners = intSetting(next, CLEANER_THREADS, broker.config().logCleanerThreads());
        // Kafka's LogCleaner.validateReconfiguration, whose ConfigException Kafka answers as this one.
        String cleanerProblem = wantedCleaners < 1 ? "Log cleaner threads should be at least 1"
                : wantedCleaners < cleaners / 2 ? "Log cleaner threads cannot be reduced to less than half the current "
                + "value " + cleaners
                : wantedCleaners > cleaners * 2 ? "Log cleaner threads cannot be increased to more than double the "
                + "current value " + cleaners : null;
        if (wantedCleaners != cleaners && cleanerProblem != null) {
            LOG.log(System.Logger.Level.INFO, "Dynamic log cleaner update refused: {0}", cleanerProblem);
            throw new ApiException(INVALID_REQUEST, "Invalid dynamic configuration");
        }
    }

    /**
     * Puts settings in force: topic defaults for every log without its own override, the handler pool size, and the
     * TLS listeners' reloaded stores (for connections accepted from now on).
     */
    private void apply(DynamicLayers layers, Map<ListenerTls, ListenerTls.Loaded> reloads) {
        reloads.forEach((tls, loaded) -> {
            tls.install(loaded);
            LOG.log(System.Logger.Level.INFO, "TLS listener {0} reloaded its key and trust stores",
                    tls.listenerName());
        });
        boolean uncleanBefore = uncleanLeaderElectionDefault();
        broker.topicConfigs().dynamic(layers);
        broker.topics().allHeldLogsConfigChanged();
        // Kafka's DynamicLogConfig.reconfigure: a default turned on elects leaders for partitions without one now.
        var controller = broker.controller();
        if (!uncleanBefore && uncleanLeaderElectionDefault() && controller != null) {
            controller.enableDefaultUncleanLeaderElection();
        }
        broker.resizeRequestHandlers(ioThreads(layers));
        applyConnectionLimits(layers);
        broker.logs().reconfigureCleaner(broker.config().logCleanerEnable(),
                intSetting(layers, CLEANER_THREADS, broker.config().logCleanerThreads()),
                longSetting(layers, "log.cleaner.backoff.ms", broker.config().logCleanerBackoffMs()));
    }

    /** The broker default of unclean.leader.election.enable in force (dynamic layers, static setting, Kafka's false). */
    boolean uncleanLeaderElectionDefault() {
        return Boolean.parseBoolean(broker.topicConfigs().brokerDefault(TopicConfigs.KEYS.get(UNCLEAN_LEADER_ELECTION))
                .value());
    }

    /**
     * max.connections (the broker's and the listeners'), max.connections.per.ip (and its overrides) and
     * max.connection.creation.rate in force: the dynamic ones over the static ones.
     */
    void applyConnectionLimits(DynamicLayers layers) {
        broker.updateConnectionLimits(List.of(layers.clusterDefault(), layers.perBroker()));
        ConnectionRateQuotas rates = broker.clientQuotas().connectionRates();
        rates.updateBrokerRate(intSetting(layers, ConnectionRateQuotas.BROKER_RATE_KEY, rates.staticBrokerRate()));
        // A listener's rate may be set for this broker or as the cluster default (Kafka's ClusterLevelListenerConfigs).
        Map<String, Integer> listenerRates = new LinkedHashMap<>();
        for (Map<String, String> layer : List.of(layers.clusterDefault(), layers.perBroker())) {
            layer.forEach((name, value) -> {
                String listener = listenerRateKey(name);
                if (listener == null || value == null) return;
                try {
                    listenerRates.put(listener, Integer.parseInt(value.trim()));
                } catch (NumberFormatException e) {
                    // Stored by another writer: validate() keeps this broker from storing it; leave the rate as is.
                    LOG.log(System.Logger.Level.WARNING, "Ignoring {0}={1}: not a whole number", name, value);
                }
            });
        }
        rates.updateListenerRates(listenerRates);
    }

    /** A number key in force: this broker's dynamic value, else the cluster default's, else {@code staticValue}. */
    private static int intSetting(DynamicLayers layers, String name, int staticValue) {
        return (int) longSetting(layers, name, staticValue);
    }

    /** As {@link #intSetting}, for a LONG (or a wider INT) key. */
    static long longSetting(DynamicLayers layers, String name, long staticValue) {
        String value = layers.perBroker().getOrDefault(name, layers.clusterDefault().get(name));
        return value == null ? staticValue : Long.parseLong(value.trim());
    }

    /**
     * A BOOLEAN key in force: this broker's dynamic value, else the cluster default's, else {@code staticValue}
     * (Kafka's precedence), read where it is used, as Kafka reads its dynamic producer state settings.
     */
    public static boolean booleanSetting(DynamicLayers layers, String name, boolean staticValue) {
        String value = layers.perBroker().getOrDefault(name, layers.clusterDefault().get(name));
        return value == null ? staticValue : Boolean.parseBoolean(value.trim());
    }

    private int ioThreads(DynamicLayers layers) {
        String value = layers.perBroker().getOrDefault(IO_THREADS, layers.clusterDefault().get(IO_THREADS));
        return value == null ? broker.config().ioThreads() : Integer.parseInt(value.trim());
    }

    /**
     * The stored settings of one entity that Tandem can apply. Others (written by an older Tandem or by a Kafka broker
     * sharing the ensemble) are left out with an error line, as Kafka leaves out what it cannot apply.
     */
    private Map<String, String> usable(String entity, Map<String, String> stored, boolean perBroker) {
        Map<String, String> usable = new LinkedHashMap<>();
        List<String> dropped = new ArrayList<>();
        for (Map.Entry<String, String> e : stored.entrySet()) {
            try {
                validate(Map.of(e.getKey(), e.getValue()), perBroker);
                usable.put(e.getKey(), e.getValue());
            } catch (ApiException error) {
                dropped.add(e.getKey() + " (" + error.getMessage() + ")");
            }
        }
        if (!dropped.isEmpty()) {
            LOG.log(System.Logger.Level.ERROR, "Dynamic broker configs stored for {0} that Tandem does not apply are "
                    + "ignored: {1}", entity, dropped);
        }
        return usable;
    }

    /** "" is the cluster default; otherwise the resource must name this broker (Kafka's checks and words). */
    private boolean perBroker(String resourceName) {
        if (resourceName == null || resourceName.isEmpty()) return false;
        int id;
        try {
            id = Integer.parseInt(resourceName);
        } catch (NumberFormatException e) {
            throw new ApiException(INVALID_REQUEST, "Node id must be an integer, but it is: " + resourceName);
        }
        if (id != brokerId) {
            throw new ApiException(INVALID_REQUEST, "Unexpected broker id, expected " + brokerId + ", but received "
                    + resourceName);
        }
        return true;
    }

    private static String path(String entity) {
        return CONFIG_BROKERS + "/" + entity;
    }
}
