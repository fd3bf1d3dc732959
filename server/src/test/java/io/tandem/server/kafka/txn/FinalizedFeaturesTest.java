package io.tandem.server.kafka.txn;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tandem.kafka.wire.Features;
import io.tandem.server.kafka.metadata.KafkaZkLayout;
import io.tandem.server.kafka.metadata.LocalZnodeStore;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static io.tandem.server.kafka.ErrorCodes.INVALID_UPDATE_VERSION;
import static io.tandem.server.kafka.ErrorCodes.NONE;
import static io.tandem.server.kafka.txn.FinalizedFeatures.SAFE_DOWNGRADE;
import static io.tandem.server.kafka.txn.FinalizedFeatures.UNSAFE_DOWNGRADE;
import static io.tandem.server.kafka.txn.FinalizedFeatures.UPGRADE;
import static org.junit.jupiter.api.Assertions.*;

/**
 * The finalized features in {@code /feature} (Kafka 3.9's FeatureZNode, version 2): a default level while it is
 * missing that nobody writes on its own, read as another broker wrote it, and changed by UpdateFeatures with Kafka 4.4's checks and messages.
 */
class FinalizedFeaturesTest {
    private static final String TV = "transaction.version";
    @TempDir
    Path dir;
    private final List<Short> seen = new ArrayList<>();

    private FinalizedFeatures start(LocalZnodeStore store, short initial) throws Exception {
        return FinalizedFeatures.start(store, 7, initial, Runnable::run, s -> seen.add(s.level(TV)), reason -> {
            throw new AssertionError("no incompatible level is finalized here: " + reason);
        });
    }

    private static FinalizedFeatures.Update update(String feature, int level, byte type) {
        return new FinalizedFeatures.Update(feature, (short) level, type);
    }

    @Test
    void shouldReportTheDefaultLevelWithoutWritingAnythingUntilAnUpdate() throws Exception {
        try (LocalZnodeStore store = new LocalZnodeStore(dir)) {
            FinalizedFeatures features = start(store, (short) 2);
            assertEquals(2, features.current().level(TV));
            assertEquals(0, features.current().epoch(), "above a client's initial -1");
            assertEquals(List.of((short) 2), seen);
            // An Apache Kafka 3.9 broker exits on a level it does not support: nothing is finalized on our own.
            assertNull(store.getData(KafkaZkLayout.FEATURE));

            assertEquals(NONE, features.update(List.of(update(TV, 1, SAFE_DOWNGRADE)), false).error());
            JsonNode node = new ObjectMapper().readTree(store.getData(KafkaZkLayout.FEATURE));
            assertEquals(2, node.get("version").asInt());
            assertEquals(1, node.get("status").asInt(), "Enabled");
            assertEquals(1, node.get("features").get(TV).get("max_version_level").asInt());
            assertEquals(1, features.current().level(TV));
            assertTrue(features.current().epoch() > 0);
        }
    }

    @Test
    void shouldStayAtLevelZeroAndRefuseUpgradesWhileARegisteredBrokerDoesNotSupportTheFeature() throws Exception {
        try (LocalZnodeStore store = new LocalZnodeStore(dir)) {
            // A Tandem broker lists the levels it supports; an Apache Kafka 3.9 broker's znode does not list these.
            store.create(KafkaZkLayout.brokerPath(1), KafkaZkLayout.encodeBroker(
                    new KafkaZkLayout.BrokerRegistration(1, "localhost", 9092, "PLAINTEXT", null, 0)), false);
            assertEquals(Map.of(Features.SHARE_VERSION, new Features.Range((short) 0, (short) 2),
                            TV, new Features.Range((short) 0, (short) 2)),
                    KafkaZkLayout.decodeBrokerFeatures(store.getData(KafkaZkLayout.brokerPath(1))));
            store.create(KafkaZkLayout.brokerPath(5), ("{\"features\":{},\"endpoints\":[\"PLAINTEXT://localhost:9093\"],"
                    + "\"version\":5}").getBytes(StandardCharsets.UTF_8), false);
            FinalizedFeatures features = start(store, (short) 2);
            assertEquals(0, features.current().level(TV), "the default only when every broker supports it");

            FinalizedFeatures.Result refused = features.update(List.of(update(TV, 2, UPGRADE)), false);
            assertEquals(INVALID_UPDATE_VERSION, refused.error());
            assertEquals(FinalizedFeatures.ALL_FAILED + "Invalid update version 2 for feature transaction.version. "
                    + "Broker 5 does not support this feature.", refused.message());
            assertNull(store.getData(KafkaZkLayout.FEATURE));

            store.deleteRecursive(KafkaZkLayout.brokerPath(5));
            assertEquals(NONE, features.update(List.of(update(TV, 2, UPGRADE)), false).error());
            assertEquals(2, features.current().level(TV));
        }
    }

    @Test
    void shouldReadTheLevelsAnotherBrokerWroteAndNotOverwriteThem() throws Exception {
        try (LocalZnodeStore store = new LocalZnodeStore(dir)) {
            // What a Kafka 3.9 controller in ZooKeeper mode writes: versioning enabled, nothing finalized.
            store.create(KafkaZkLayout.FEATURE, "{\"version\":2,\"status\":1,\"features\":{}}"
                    .getBytes(StandardCharsets.UTF_8), false);
            assertEquals(0, start(store, (short) 2).current().level(TV), "a missing feature is at level 0");
            assertEquals(Map.of(), FinalizedFeatures.decode(store.getData(KafkaZkLayout.FEATURE)));
            assertEquals(Map.of(), FinalizedFeatures.decode(("{\"version\":1,\"status\":0,\"features\":{\""
                    + TV + "\":{\"min_version_level\":1,\"max_version_level\":2}}}").getBytes(StandardCharsets.UTF_8)),
                    "a Disabled node finalizes nothing");
            assertEquals(Map.of(TV, (short) 2), FinalizedFeatures.decode(("{\"version\":1,\"status\":1,\"features\""
                    + ":{\"" + TV + "\":{\"min_version_level\":1,\"max_version_level\":2}}}")
                    .getBytes(StandardCharsets.UTF_8)), "version 1 nodes are read too");
        }
    }

    @Test
    void shouldRefuseToStartWhereAFinalizedLevelIsNotSupported() throws Exception {
        try (LocalZnodeStore store = new LocalZnodeStore(dir)) {
            // As Kafka 3.9's FinalizedFeatureChangeListener.initOrThrow: the broker does not start (nor register).
            store.create(KafkaZkLayout.FEATURE, ("{\"features\":{\"" + TV + "\":{\"max_version_level\":3},"
                    + "\"group.version\":{\"max_version_level\":1}},\"version\":2,\"status\":1}")
                    .getBytes(StandardCharsets.UTF_8), false);
            FinalizedFeatures.IncompatibleFeaturesException refused = assertThrows(
                    FinalizedFeatures.IncompatibleFeaturesException.class, () -> start(store, (short) 2));
            assertTrue(refused.getMessage().contains("{feature=" + TV + ", reason='3 is incompatible with 0-2'}"),
                    refused.getMessage());
            assertTrue(refused.getMessage().contains("{feature=group.version, reason='Unsupported feature'}"),
                    refused.getMessage());
            assertTrue(seen.isEmpty(), "no levels were taken");

            // A level 0 is no finalized level: nothing to support.
            store.setData(KafkaZkLayout.FEATURE, ("{\"features\":{\"group.version\":{\"max_version_level\":0}},"
                    + "\"version\":2,\"status\":1}").getBytes(StandardCharsets.UTF_8));
            assertEquals(0, start(store, (short) 2).current().level(TV));
        }
    }

    @Test
    void shouldRefuseUpdatesAsKafkasFeatureControlManagerDoesAndWriteNothing() throws Exception {
        try (LocalZnodeStore store = new LocalZnodeStore(dir)) {
            FinalizedFeatures features = start(store, (short) 2);
            Map<String, String> refusals = Map.of(
                    "Invalid update version 0 for feature transaction.version. Can't downgrade the version of this "
                            + "feature without setting the upgrade type to either safe or unsafe downgrade.",
                    TV + ":0:" + UPGRADE,
                    "Invalid update version 3 for feature transaction.version. Local controller 7 only supports "
                            + "versions 0-2", TV + ":3:" + UPGRADE,
                    "Invalid update version -1 for feature transaction.version. A feature version cannot be less "
                            + "than 0.", TV + ":-1:" + SAFE_DOWNGRADE,
                    "Invalid update version 1 for feature streams.version. Local controller 7 does not support this "
                            + "feature.", "streams.version:1:" + UPGRADE,
                    "Invalid update version 2 for feature transaction.version. The controller does not support the "
                            + "given upgrade type.", TV + ":2:0");
            for (Map.Entry<String, String> e : refusals.entrySet()) {
                String[] u = e.getValue().split(":");
                FinalizedFeatures.Result result = features.update(List.of(update(u[0], Integer.parseInt(u[1]),
                        Byte.parseByte(u[2]))), false);
                assertEquals(INVALID_UPDATE_VERSION, result.error(), e.getValue());
                assertEquals(FinalizedFeatures.ALL_FAILED + e.getKey(), result.message());
            }
            // An upgrade type that downgrades needs a lower level.
            features.update(List.of(update(TV, 1, SAFE_DOWNGRADE)), false);
            assertEquals(FinalizedFeatures.ALL_FAILED + "Invalid update version 2 for feature transaction.version. "
                    + "Can't downgrade to a newer version.", features.update(List.of(update(TV, 2, UNSAFE_DOWNGRADE)), false).message());
            // All or nothing: a good update next to a bad one is not applied.
            assertEquals(INVALID_UPDATE_VERSION, features.update(List.of(update(TV, 2, UPGRADE),
                    update("streams.version", 1, UPGRADE)), false).error());
            assertEquals(1, features.current().level(TV));
        }
    }

    @Test
    void shouldApplyADowngradeAndAnUpgradeWithANewerEpochEachTime() throws Exception {
        try (LocalZnodeStore store = new LocalZnodeStore(dir)) {
            FinalizedFeatures features = start(store, (short) 2);
            long epoch = features.current().epoch();
            assertEquals(NONE, features.update(List.of(update(TV, 0, SAFE_DOWNGRADE)), true).error());
            assertEquals(2, features.current().level(TV), "validate only changes nothing");

            assertEquals(FinalizedFeatures.Result.OK, features.update(List.of(update(TV, 0, SAFE_DOWNGRADE)), false));
            assertEquals(0, features.current().level(TV));
            assertTrue(features.current().epoch() > epoch);
            // share.version, in force at its default (2) and not named by the update, is written as it stands.
            assertEquals(Map.of(Features.SHARE_VERSION, (short) 2),
                    FinalizedFeatures.decode(store.getData(KafkaZkLayout.FEATURE)),
                    "level 0 is written as the feature's absence");
            epoch = features.current().epoch();

            assertEquals(NONE, features.update(List.of(update(TV, 2, UPGRADE)), false).error());
            assertEquals(2, features.current().level(TV));
            assertTrue(features.current().epoch() > epoch);
            assertEquals(List.of((short) 2, (short) 0, (short) 2), seen, "the coordinator follows every change");
        }
    }
}
