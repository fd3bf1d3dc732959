package io.tandem.server.kafka.txn;

import io.tandem.kafka.wire.Features;
import io.tandem.server.kafka.metadata.FeatureCompatibility;
import io.tandem.server.kafka.metadata.FeatureZnode;
import io.tandem.server.kafka.metadata.KafkaZkLayout;
import io.tandem.server.kafka.metadata.ZnodeStore;

import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.Consumer;

import static io.tandem.server.kafka.ErrorCodes.INVALID_UPDATE_VERSION;
import static io.tandem.server.kafka.ErrorCodes.NONE;

/**
 * The cluster's finalized feature levels (KIP-584) as Kafka 3.9 keeps them in ZooKeeper mode: the {@code /feature}
 * znode ({@code {"features":{"transaction.version":{"max_version_level":2}},"version":2,"status":1}}, a feature at
 * level 0 left out), whose znode version is the finalized-features epoch ApiVersions reports. Every broker watches
 * it, so an UpdateFeatures answered by any broker reaches all of them, and each reads it again at start-up.
 *
 * <p>The features served are {@code transaction.version} (0-2) and {@code share.version} (0-2). The controller,
 * Tandem's or Apache's, creates the node at its election with nothing finalized, as Kafka 3.9 does
 * (controller.FeatureVersioning): an Apache Kafka 3.9 broker that finds a level it does not support there exits, so a
 * Tandem cluster Apache brokers may join must not finalize one on its own. While the cluster has not finalized the
 * features (no node yet, or the node as a controller created it: at its first version, without transaction.version),
 * transaction.version is {@link TransactionConfig#transactionVersion()} (2, as a Kafka 4.x cluster is formatted) and
 * share.version 2 (as a Kafka 4.4 cluster is formatted), each if every registered broker supports it (its broker
 * znode lists its supported levels) and 0 otherwise, computed again when brokers come and go. Once UpdateFeatures
 * wrote the node (a newer version), it is read as it is, a missing feature meaning level 0, as in Kafka. A store without versions
 * (a local directory) has no controller-created node: there the node's existence alone says it was finalized.
 *
 * <p>UpdateFeatures checks each update as Kafka 4.4's FeatureControlManager does, with its messages: a level below
 * 0, a level this broker or any registered broker does not support, a downgrade without a downgrade type, and an
 * upgrade with one are INVALID_UPDATE_VERSION; nothing is written unless every update passes, and the first
 * refusal's message says so ("The update failed for all features since the following feature had an error: ...").
 * The write is a compare-and-set on the node's version, so two concurrent updates cannot both apply to the same epoch.
 */
public final class FinalizedFeatures {
    private static final System.Logger LOG = System.getLogger(FinalizedFeatures.class.getName());
    /** Kafka's FeatureUpdate.UpgradeType codes (UpdateFeatures v1+; v0's AllowDowngrade maps to SAFE_DOWNGRADE). */
    public static final byte UPGRADE = 1;
    public static final byte SAFE_DOWNGRADE = 2;
    public static final byte UNSAFE_DOWNGRADE = 3;
    private static final int CAS_ATTEMPTS_MAX = 5;
    static final String ALL_FAILED = "The update failed for all features since the following feature had an error: ";

    /** The levels and the epoch they were finalized at. */
    public record Snapshot(Map<String, Short> levels, long epoch) {
        public short level(String feature) {
            return levels.getOrDefault(feature, (short) 0);
        }
    }

    /** One requested change: the feature, its new level, and the upgrade type. */
    public record Update(String feature, short level, byte upgradeType) {
    }

    /** The answer to an UpdateFeatures request: NONE, or the first failing update's error. */
    public record Result(short error, String message) {
        static final Result OK = new Result(NONE, null);
    }

    /** This broker does not support a level the cluster finalized: it must not start. */
    public static final class IncompatibleFeaturesException extends IllegalStateException {
        IncompatibleFeaturesException(String message) {
            super(message);
        }
    }

    private final ZnodeStore store;
    private final int nodeId;
    private final short defaultTransactionVersion;
    private final Consumer<Snapshot> onChange;
    private final Consumer<String> onIncompatible;
    private volatile Snapshot current;
    /** Whether {@code onIncompatible} was told: it is told once, the broker stops. */
    private boolean incompatibleSeen;

    private FinalizedFeatures(ZnodeStore store, int nodeId, short defaultTransactionVersion,
                              Consumer<Snapshot> onChange, Consumer<String> onIncompatible) {
        this.store = store;
        this.nodeId = nodeId;
        this.defaultTransactionVersion = defaultTransactionVersion;
        this.onChange = onChange;
        this.onIncompatible = onIncompatible;
    }

    /**
     * Reads {@code /feature} and watches it and the registered brokers, reading again on {@code executor} (never on
     * the store's notification thread); {@code onChange} gets every new snapshot, the first one included.
     * {@code defaultTransactionVersion} is the level while the cluster has no node. {@code onIncompatible} is told
     * once, with the reason, when a running broker finds {@code /feature} finalizing a level it does not support (at
     * start-up that refuses to start instead, see {@link IncompatibleFeaturesException}): Kafka 3.9's broker exits
     * then, and the caller stops the broker.
     */
    public static FinalizedFeatures start(ZnodeStore store, int nodeId, short defaultTransactionVersion,
                                          Executor executor, Consumer<Snapshot> onChange,
                                          Consumer<String> onIncompatible) throws Exception {
        FinalizedFeatures features = new FinalizedFeatures(store, nodeId, defaultTransactionVersion, onChange,
                onIncompatible);
        features.reload();
        Runnable reloadLater = () -> {
            try {
                executor.execute(() -> {
                    try {
                        features.reload();
                    } catch (Exception e) {
                        LOG.log(System.Logger.Level.WARNING, "Could not read " + KafkaZkLayout.FEATURE + ": " + e);
                    }
                });
            } catch (RejectedExecutionException closing) {
                // The broker is shutting down: nobody will ask for the levels any more.
            }
        };
        store.watchNode(KafkaZkLayout.FEATURE, reloadLater);
        store.watchChildren(KafkaZkLayout.BROKER_IDS, reloadLater);
        return features;
    }

    public Snapshot current() {
        return current;
    }

    /** Applies {@code updates} all or none (only checks them when {@code validateOnly}). */
    public Result update(List<Update> updates, boolean validateOnly) throws Exception {
        for (int attempt = 0; attempt < CAS_ATTEMPTS_MAX; attempt++) {
            ZnodeStore.Versioned read = store.getVersioned(KafkaZkLayout.FEATURE);
            if (read == null && store.keepsVersions() && !validateOnly) {
                // Before any controller created it: created as one would, so this update makes a newer version.
                store.create(KafkaZkLayout.FEATURE, FeatureZnode.enabled(Map.of()).encode(), false);
                continue;
            }
            Map<Integer, Map<String, Features.Range>> brokerSupport = registeredBrokers();
            Map<String, Short> levels = inForce(read, brokerSupport);
            for (Update u : updates) {
                Result refused = check(u, levels.getOrDefault(u.feature(), (short) 0), brokerSupport);
                // Kafka 4.4 applies all or none, and says so (compat-tests' TransactionVersionFeatureTest).
                if (refused != null) return new Result(refused.error(), ALL_FAILED + refused.message());
            }
            if (validateOnly) return Result.OK;
            for (Update u : updates) {
                if (u.level() == 0) levels.remove(u.feature()); else levels.put(u.feature(), u.level());
            }
            boolean written = read == null ? store.create(KafkaZkLayout.FEATURE, encode(levels), false)
                    : store.setDataIfVersion(KafkaZkLayout.FEATURE, encode(levels), read.version());
            if (written) {
                LOG.log(System.Logger.Level.INFO, "Finalized features set to " + levels);
                reload();
                return Result.OK;
            }
        }
        throw new IllegalStateException(KafkaZkLayout.FEATURE + " kept changing under " + CAS_ATTEMPTS_MAX
                + " attempts to update it");
    }

    /** Kafka's FeatureControlManager.updateFeature checks, in its order and words; null when the update may go. */
    private Result check(Update u, short currentLevel, Map<Integer, Map<String, Features.Range>> brokerSupport) {
        if (u.upgradeType() < UPGRADE || u.upgradeType() > UNSAFE_DOWNGRADE) {
            return invalid(u, "The controller does not support the given upgrade type.");
        }
        if (u.level() < 0) return invalid(u, "A feature version cannot be less than 0.");
        String unsupported = reasonNotSupported(u, "Local controller " + nodeId, Features.SUPPORTED);
        for (Map.Entry<Integer, Map<String, Features.Range>> broker : brokerSupport.entrySet()) {
            if (unsupported != null) break;
            unsupported = reasonNotSupported(u, "Broker " + broker.getKey(), broker.getValue());
        }
        if (unsupported != null) return invalid(u, unsupported);
        if (u.level() < currentLevel && u.upgradeType() == UPGRADE) {
            return invalid(u, "Can't downgrade the version of this feature without setting the upgrade type to "
                    + "either safe or unsafe downgrade.");
        }
        if (u.level() > currentLevel && u.upgradeType() != UPGRADE) {
            return invalid(u, "Can't downgrade to a newer version.");
        }
        return null;
    }

    /** Kafka's QuorumFeatures.reasonNotSupported: null when {@code who} supports the update's level. */
    private static String reasonNotSupported(Update u, String who, Map<String, Features.Range> supported) {
        Features.Range range = supported.getOrDefault(u.feature(), Features.DISABLED);
        if (range.contains(u.level())) return null;
        return range.max() == 0 ? who + " does not support this feature."
                : who + " only supports versions " + range;
    }

    /** What every registered broker's znode says it supports, by broker id (a broker that went away is skipped). */
    private Map<Integer, Map<String, Features.Range>> registeredBrokers() throws Exception {
        Map<Integer, Map<String, Features.Range>> brokers = new TreeMap<>();
        for (String child : store.getChildren(KafkaZkLayout.BROKER_IDS)) {
            int id;
            try {
                id = Integer.parseInt(child);
            } catch (NumberFormatException notABroker) {
                continue;
            }
            byte[] data = store.getData(KafkaZkLayout.brokerPath(id));
            if (data != null) brokers.put(id, KafkaZkLayout.decodeBrokerFeatures(data));
        }
        return brokers;
    }

    /** The node's levels, with the default while the cluster has not finalized the feature (see the class). */
    private Map<String, Short> inForce(ZnodeStore.Versioned read, Map<Integer, Map<String, Features.Range>> brokers)
            throws IOException {
        Map<String, Short> levels = new LinkedHashMap<>(read == null ? Map.of() : decode(read.data()));
        boolean asCreated = read != null && store.keepsVersions() && read.version() == 0
                && !FeatureZnode.decode(read.data()).features().containsKey(Features.TRANSACTION_VERSION);
        if (read == null || asCreated) levels.putAll(defaults(brokers));
        return levels;
    }

    /** The levels while the cluster has not finalized them: the default, if every registered broker supports it. */
    private Map<String, Short> defaults(Map<Integer, Map<String, Features.Range>> brokerSupport) {
        Map<String, Short> levels = new LinkedHashMap<>();
        if (defaultTransactionVersion != 0 && allSupport(brokerSupport, Features.TRANSACTION_VERSION,
                defaultTransactionVersion)) {
            levels.put(Features.TRANSACTION_VERSION, defaultTransactionVersion);
        }
        // share.version as a Kafka 4.4 storage format finalizes it (2), under the same rule: brokers that do not
        // serve share groups (Apache Kafka 3.9) keep it at 0.
        if (allSupport(brokerSupport, Features.SHARE_VERSION, Features.SHARE_VERSION_2)) {
            levels.put(Features.SHARE_VERSION, Features.SHARE_VERSION_2);
        }
        return levels;
    }

    private static boolean allSupport(Map<Integer, Map<String, Features.Range>> brokerSupport, String feature,
                                      short level) {
        for (Map<String, Features.Range> supported : brokerSupport.values()) {
            if (!supported.getOrDefault(feature, Features.DISABLED).contains(level)) return false;
        }
        return true;
    }

    private static Result invalid(Update u, String why) {
        return new Result(INVALID_UPDATE_VERSION, "Invalid update version " + u.level() + " for feature "
                + u.feature() + ". " + why);
    }

    private synchronized void reload() throws Exception {
        ZnodeStore.Versioned read = store.getVersioned(KafkaZkLayout.FEATURE);
        Map<String, String> incompatible = read == null ? Map.of()
                : FeatureCompatibility.incompatible(Features.SUPPORTED, FeatureZnode.decode(read.data()).finalized());
        if (!incompatible.isEmpty()) {
            String seen = "Feature incompatibilities seen: " + String.join(", ", incompatible.values());
            // As Kafka 3.9's broker (FinalizedFeatureChangeListener.initOrThrow): it does not start, and so never
            // registers, in a cluster that finalized a level it does not support.
            if (current == null) {
                throw new IncompatibleFeaturesException(seen + "; broker " + nodeId + " supports "
                        + Features.SUPPORTED + " and cannot join a cluster whose " + KafkaZkLayout.FEATURE
                        + " finalizes " + FeatureZnode.decode(read.data()).finalized());
            }
            // A running Kafka 3.9 broker exits here (FinalizedFeatureChangeListener: "Failed to process feature ZK
            // node change event. The broker will exit."). An embedded one must not end its process (a JUnit run):
            // the caller stops the broker instead (it deregisters and stops serving), and `tandem start` then exits
            // non-zero. Meanwhile the levels it had stay. (UpdateFeatures refuses a level a registered broker
            // lacks, so only a write that bypassed it gets here.)
            if (incompatibleSeen) return;
            incompatibleSeen = true;
            String reason = seen + "; broker " + nodeId + " supports " + Features.SUPPORTED + " and the cluster's "
                    + KafkaZkLayout.FEATURE + " now finalizes " + FeatureZnode.decode(read.data()).finalized();
            LOG.log(System.Logger.Level.ERROR, reason + ": the broker stops, as Kafka's exits");
            onIncompatible.accept(reason);
            return;
        }
        Map<String, Short> levels = Map.copyOf(inForce(read, registeredBrokers()));
        // Epoch 0 while the node is missing: above a client's initial -1, so it reads the default levels.
        long epoch = read == null ? 0 : read.version();
        Snapshot before = current;
        if (before != null && before.levels().equals(levels) && before.epoch() >= epoch) return;
        // A store without versions (one process) reports 0 for every write: the epoch still has to move for
        // clients to read the new levels.
        if (before != null && epoch <= before.epoch()) epoch = before.epoch() + 1;
        current = new Snapshot(levels, epoch);
        onChange.accept(current);
    }

    static byte[] encode(Map<String, Short> levels) {
        return FeatureZnode.enabled(levels).encode();
    }

    /** Both FeatureZNode versions (1 also has min_version_level); a Disabled node finalizes nothing. */
    static Map<String, Short> decode(byte[] data) throws IOException {
        return FeatureZnode.decode(data).finalized();
    }
}
