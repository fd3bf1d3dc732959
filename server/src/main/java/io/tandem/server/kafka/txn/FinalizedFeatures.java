package io.tandem.server.kafka.txn;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tandem.kafka.wire.Features;
import io.tandem.server.kafka.metadata.KafkaZkLayout;
import io.tandem.server.kafka.metadata.ZnodeStore;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.Consumer;

import static io.tandem.server.kafka.ErrorCodes.INVALID_UPDATE_VERSION;
import static io.tandem.server.kafka.ErrorCodes.NONE;

/**
 * The cluster's finalized feature levels (KIP-584) as Kafka 3.9 keeps them in ZooKeeper mode: the {@code /feature}
 * znode ({@code {"version":2,"status":1,"features":{"transaction.version":{"max_version_level":2}}}}, a feature at
 * level 0 left out), whose znode version is the finalized-features epoch ApiVersions reports. Every broker watches
 * it, so an UpdateFeatures answered by any broker reaches all of them, and each reads it again at start-up.
 *
 * <p>The one feature served is {@code transaction.version} (0-2). The first broker of a new cluster writes the
 * node with the level {@link TransactionConfig#transactionVersion()} (2, as a Kafka 4.x cluster is formatted); a
 * node written by another broker is read as it is, a missing feature meaning level 0, as in Kafka.
 *
 * <p>UpdateFeatures checks each update as Kafka 4.4's FeatureControlManager does, with its messages: a level below
 * 0, a level this broker does not support, a downgrade without a downgrade type, and an upgrade with one are
 * INVALID_UPDATE_VERSION; nothing is written unless every update passes, and the first refusal's message says so
 * ("The update failed for all features since the following feature had an error: ..."). The write is a compare-and-set on the
 * node's version, so two concurrent updates cannot both apply to the same epoch.
 */
public final class FinalizedFeatures {
    private static final System.Logger LOG = System.getLogger(FinalizedFeatures.class.getName());
    private static final ObjectMapper JSON = new ObjectMapper();
    /** FeatureZNode's version 2 (no min_version_level) and its Enabled status. */
    private static final int ZNODE_VERSION = 2;
    private static final int STATUS_ENABLED = 1;
    private static final String MAX_VERSION_LEVEL = "max_version_level";
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

    private final ZnodeStore store;
    private final int nodeId;
    private final Consumer<Snapshot> onChange;
    private volatile Snapshot current;

    private FinalizedFeatures(ZnodeStore store, int nodeId, Consumer<Snapshot> onChange) {
        this.store = store;
        this.nodeId = nodeId;
        this.onChange = onChange;
    }

    /**
     * Reads {@code /feature} (writing it with {@code initialTransactionVersion} when the cluster has none yet) and
     * watches it, reading it again on {@code executor} (never on the store's notification thread); {@code onChange}
     * gets every new snapshot, the first one included.
     */
    public static FinalizedFeatures start(ZnodeStore store, int nodeId, short initialTransactionVersion,
                                          Executor executor, Consumer<Snapshot> onChange) throws Exception {
        FinalizedFeatures features = new FinalizedFeatures(store, nodeId, onChange);
        Map<String, Short> initial = new LinkedHashMap<>();
        if (initialTransactionVersion > 0) initial.put(Features.TRANSACTION_VERSION, initialTransactionVersion);
        store.create(KafkaZkLayout.FEATURE, encode(initial), false);
        features.reload();
        store.watchNode(KafkaZkLayout.FEATURE, () -> {
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
        });
        return features;
    }

    public Snapshot current() {
        return current;
    }

    /** The range of levels this broker supports, or null for a feature it does not know. */
    static short[] supported(String feature) {
        return Features.TRANSACTION_VERSION.equals(feature)
                ? new short[] {Features.TRANSACTION_VERSION_0, Features.TRANSACTION_VERSION_2} : null;
    }

    /** Applies {@code updates} all or none (only checks them when {@code validateOnly}). */
    public Result update(List<Update> updates, boolean validateOnly) throws Exception {
        for (int attempt = 0; attempt < CAS_ATTEMPTS_MAX; attempt++) {
            ZnodeStore.Versioned read = store.getVersioned(KafkaZkLayout.FEATURE);
            Map<String, Short> levels = read == null ? new LinkedHashMap<>() : decode(read.data());
            for (Update u : updates) {
                Result refused = check(u, levels.getOrDefault(u.feature(), (short) 0));
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
    private Result check(Update u, short currentLevel) {
        if (u.upgradeType() < UPGRADE || u.upgradeType() > UNSAFE_DOWNGRADE) {
            return invalid(u, "The controller does not support the given upgrade type.");
        }
        if (u.level() < 0) return invalid(u, "A feature version cannot be less than 0.");
        short[] range = supported(u.feature());
        if (range == null && u.level() != 0) {
            return invalid(u, "Local controller " + nodeId + " does not support this feature.");
        }
        if (range != null && (u.level() < range[0] || u.level() > range[1])) {
            return invalid(u, "Local controller " + nodeId + " only supports versions " + range[0] + "-" + range[1]);
        }
        if (u.level() < currentLevel && u.upgradeType() == UPGRADE) {
            return invalid(u, "Can't downgrade the version of this feature without setting the upgrade type to "
                    + "either safe or unsafe downgrade.");
        }
        if (u.level() > currentLevel && u.upgradeType() != UPGRADE) {
            return invalid(u, "Can't downgrade to a newer version.");
        }
        return null;
    }

    private static Result invalid(Update u, String why) {
        return new Result(INVALID_UPDATE_VERSION, "Invalid update version " + u.level() + " for feature "
                + u.feature() + ". " + why);
    }

    private synchronized void reload() throws Exception {
        ZnodeStore.Versioned read = store.getVersioned(KafkaZkLayout.FEATURE);
        Map<String, Short> levels = read == null ? Map.of() : Map.copyOf(decode(read.data()));
        long epoch = read == null ? -1 : read.version();
        Snapshot before = current;
        if (before != null && before.levels().equals(levels) && before.epoch() >= epoch) return;
        // A store without versions (one process) reports 0 for every write: the epoch still has to move for
        // clients to read the new levels.
        if (before != null && epoch <= before.epoch()) epoch = before.epoch() + 1;
        current = new Snapshot(levels, epoch);
        onChange.accept(current);
    }

    static byte[] encode(Map<String, Short> levels) {
        ObjectNode root = JSON.createObjectNode();
        root.put("version", ZNODE_VERSION);
        root.put("status", STATUS_ENABLED);
        ObjectNode features = root.putObject("features");
        levels.forEach((name, level) -> features.putObject(name).put(MAX_VERSION_LEVEL, level));
        return root.toString().getBytes(StandardCharsets.UTF_8);
    }

    /** Both FeatureZNode versions (1 also has min_version_level); a Disabled node finalizes nothing. */
    static Map<String, Short> decode(byte[] data) throws IOException {
        Map<String, Short> levels = new LinkedHashMap<>();
        if (data == null || data.length == 0) return levels;
        JsonNode root = JSON.readTree(data);
        if (root.path("status").asInt(STATUS_ENABLED) != STATUS_ENABLED) return levels;
        root.path("features").fields().forEachRemaining(e -> {
            short level = (short) e.getValue().path(MAX_VERSION_LEVEL).asInt(0);
            if (level > 0) levels.put(e.getKey(), level);
        });
        return levels;
    }
}
