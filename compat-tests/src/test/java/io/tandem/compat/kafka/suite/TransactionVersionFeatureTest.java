package io.tandem.compat.kafka.suite;

import static io.tandem.compat.kafka.suite.KafkaSuite.*;
import static io.tandem.compat.kafka.suite.TransactionsTest.readAll;
import static io.tandem.compat.kafka.suite.TransactionsTest.transactionalProducer;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.function.Predicate;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.FeatureMetadata;
import org.apache.kafka.clients.admin.FeatureUpdate;
import org.apache.kafka.clients.admin.FinalizedVersionRange;
import org.apache.kafka.clients.admin.TransactionDescription;
import org.apache.kafka.clients.admin.TransactionState;
import org.apache.kafka.clients.admin.UpdateFeaturesOptions;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.IsolationLevel;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.InvalidUpdateVersionException;
import org.junit.jupiter.api.Test;

/**
 * The finalized {@code transaction.version} changed the way Kafka 4.x operators change it (Admin#updateFeatures, what
 * {@code kafka-features.sh} sends), the same against Tandem and Apache Kafka ({@code -Dcompat.kafka.target=apache}),
 * on a broker of its own since the level is cluster-wide: the refusals with Kafka's messages, a validate-only
 * request that changes nothing, a safe downgrade to 0 after which a new Java 4.x producer keeps its epoch across
 * transactions (transaction version 0: EndTxn v4), and the upgrade back to 2 after which a new producer's every
 * commit bumps its epoch (transaction version 2: EndTxn v5). DescribeFeatures reports each level with a newer epoch.
 */
class TransactionVersionFeatureTest {
    private static final String FEATURE = "transaction.version";

    private static FeatureMetadata featuresWhen(Admin admin, Predicate<FeatureMetadata> done) throws Exception {
        long deadline = System.nanoTime() + TIMEOUT.toNanos();
        while (true) {
            FeatureMetadata features = get(admin.describeFeatures().featureMetadata());
            if (done.test(features)) return features;
            if (System.nanoTime() > deadline) throw new AssertionError("features never became as expected: " + features);
            Thread.sleep(50);
        }
    }

    private static short finalizedLevel(FeatureMetadata features) {
        FinalizedVersionRange range = features.finalizedFeatures().get(FEATURE);
        return range == null ? 0 : range.maxVersionLevel();
    }

    private static long epoch(FeatureMetadata features) {
        return features.finalizedFeaturesEpoch().orElseThrow();
    }

    private static InvalidUpdateVersionException refused(Admin admin, short level, FeatureUpdate.UpgradeType type) {
        ExecutionException e = assertThrows(ExecutionException.class, () -> get(admin.updateFeatures(
                Map.of(FEATURE, new FeatureUpdate(level, type)), new UpdateFeaturesOptions()).all()));
        return assertInstanceOf(InvalidUpdateVersionException.class, e.getCause());
    }

    private static TransactionDescription completed(Admin admin, String transactionalId) throws Exception {
        long deadline = System.nanoTime() + TIMEOUT.toNanos();
        while (true) {
            TransactionDescription d = get(admin.describeTransactions(List.of(transactionalId))
                    .description(transactionalId));
            if (d.state() == TransactionState.COMPLETE_COMMIT || d.state() == TransactionState.COMPLETE_ABORT) return d;
            if (System.nanoTime() > deadline) throw new AssertionError(transactionalId + " did not complete: " + d);
            Thread.sleep(20);
        }
    }

    /** Two committed transactions of a new producer: its epoch after each. */
    private static int[] epochsOfTwoTransactions(KafkaTarget target, Admin admin, String topic) throws Exception {
        String transactionalId = unique("tv-feature-id");
        int[] epochs = new int[2];
        try (KafkaProducer<String, String> producer = transactionalProducer(target, transactionalId, Map.of())) {
            producer.initTransactions();
            for (int i = 0; i < 2; i++) {
                producer.beginTransaction();
                producer.send(new ProducerRecord<>(topic, 0, null, transactionalId + "-" + i));
                producer.commitTransaction();
                epochs[i] = completed(admin, transactionalId).producerEpoch();
            }
        }
        return epochs;
    }

    @Test
    void updateFeaturesMovesTheTransactionVersionAndNewProducersFollowIt() throws Exception {
        try (KafkaTarget target = KafkaTargetExtension.startOwn("transaction-version", Map.of());
             Admin admin = admin(target)) {
            String topic = unique("tv-feature");
            createTopic(admin, topic, 1);
            FeatureMetadata initial = get(admin.describeFeatures().featureMetadata());
            assertEquals(2, finalizedLevel(initial), "a new cluster runs transaction version 2");
            assertEquals(0, initial.supportedFeatures().get(FEATURE).minVersion());
            assertTrue(initial.supportedFeatures().get(FEATURE).maxVersion() >= 2);
            long epoch = epoch(initial);

            // (Level 0 with UPGRADE is refused by the Admin client itself.)
            String allFailed = "The update failed for all features since the following feature had an error: ";
            assertEquals(allFailed + "Invalid update version 1 for feature transaction.version. Can't downgrade the "
                    + "version of this feature without setting the upgrade type to either safe or unsafe downgrade.",
                    refused(admin, (short) 1, FeatureUpdate.UpgradeType.UPGRADE).getMessage());
            short tooHigh = (short) (initial.supportedFeatures().get(FEATURE).maxVersion() + 1);
            String message = refused(admin, tooHigh, FeatureUpdate.UpgradeType.UPGRADE).getMessage();
            assertTrue(message.matches(allFailed + "Invalid update version " + tooHigh + " for feature transaction\\.version\\. "
                    + "Local controller \\d+ only supports versions 0-" + (tooHigh - 1)), message);
            get(admin.updateFeatures(Map.of(FEATURE, new FeatureUpdate((short) 0,
                    FeatureUpdate.UpgradeType.SAFE_DOWNGRADE)), new UpdateFeaturesOptions().validateOnly(true)).all());
            assertEquals(2, finalizedLevel(get(admin.describeFeatures().featureMetadata())), "validate only");

            // Down to transaction version 0: a new producer keeps its epoch from one transaction to the next.
            get(admin.updateFeatures(Map.of(FEATURE, new FeatureUpdate((short) 0,
                    FeatureUpdate.UpgradeType.SAFE_DOWNGRADE)), new UpdateFeaturesOptions()).all());
            FeatureMetadata downgraded = featuresWhen(admin, f -> finalizedLevel(f) == 0);
            assertNull(downgraded.finalizedFeatures().get(FEATURE), "a feature at level 0 is not listed");
            assertTrue(epoch(downgraded) > epoch, "a newer epoch, so clients read the levels again");
            int[] v0 = epochsOfTwoTransactions(target, admin, topic);
            assertEquals(v0[0], v0[1], "transaction version 0 keeps the epoch");

            // Back up to 2: a new producer's every commit bumps its epoch.
            get(admin.updateFeatures(Map.of(FEATURE, new FeatureUpdate((short) 2,
                    FeatureUpdate.UpgradeType.UPGRADE)), new UpdateFeaturesOptions()).all());
            FeatureMetadata upgraded = featuresWhen(admin, f -> finalizedLevel(f) == 2);
            assertTrue(epoch(upgraded) > epoch(downgraded));
            int[] v2 = epochsOfTwoTransactions(target, admin, topic);
            assertEquals(v2[0] + 1, v2[1], "transaction version 2 bumps the epoch at every commit");

            assertEquals(4, readAll(target, List.of(new TopicPartition(topic, 0)), IsolationLevel.READ_COMMITTED)
                    .size(), "every committed record is readable");
        }
    }
}
