package io.tandem.server.kafka;

import io.tandem.server.TandemCluster;
import io.tandem.server.junit.TandemClusterExtension;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewPartitions;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.message.AllocateProducerIdsRequestData;
import org.apache.kafka.common.message.AlterPartitionRequestData;
import org.apache.kafka.common.message.AlterUserScramCredentialsRequestData;
import org.apache.kafka.common.message.CreatePartitionsRequestData;
import org.apache.kafka.common.message.CreateTopicsRequestData;
import org.apache.kafka.common.message.CreateTopicsResponseData.CreatableTopicResult;
import org.apache.kafka.common.message.DeleteTopicsRequestData;
import org.apache.kafka.common.message.UpdateFeaturesRequestData;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.AllocateProducerIdsRequest;
import org.apache.kafka.common.requests.AllocateProducerIdsResponse;
import org.apache.kafka.common.requests.AlterPartitionRequest;
import org.apache.kafka.common.requests.AlterPartitionResponse;
import org.apache.kafka.common.requests.AlterUserScramCredentialsRequest;
import org.apache.kafka.common.requests.AlterUserScramCredentialsResponse;
import org.apache.kafka.common.requests.CreatePartitionsRequest;
import org.apache.kafka.common.requests.CreatePartitionsResponse;
import org.apache.kafka.common.requests.CreateTopicsRequest;
import org.apache.kafka.common.requests.CreateTopicsResponse;
import org.apache.kafka.common.requests.DeleteTopicsRequest;
import org.apache.kafka.common.requests.DeleteTopicsResponse;
import org.apache.kafka.common.requests.UpdateFeaturesRequest;
import org.apache.kafka.common.requests.UpdateFeaturesResponse;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

/**
 * The requests Kafka 3.9's ZooKeeper-mode broker takes only as the active controller (KafkaApis: every handler that
 * checks {@code zkSupport.controller.isActive}, outside the ZooKeeper-migration-only delegation token ones and
 * forwarding's Envelope): CreateTopics, CreatePartitions, DeleteTopics, AlterUserScramCredentials, AlterPartition,
 * UpdateFeatures and AllocateProducerIds, each answered NOT_CONTROLLER by another broker and nothing done; and the
 * Admin client, bootstrapped on any one broker, still creates, grows and deletes topics (it asks the controller).
 */
class ControllerOnlyRequestsTest {
    private static final long WAIT_MS = 30_000;

    @RegisterExtension
    static TandemClusterExtension kafka = TandemClusterExtension.brokers(3);

    @Test
    void shouldAnswerNotControllerOnABrokerThatIsNotTheController(TandemCluster cluster) throws Exception {
        try (Admin admin = admin(cluster.bootstrapServers())) {
            admin.createTopics(List.of(new NewTopic("kept", 1, (short) 1))).all().get(WAIT_MS, TimeUnit.MILLISECONDS);
            int controller = awaitController(cluster);
            int other = controller % 3 + 1;
            try (OfficialClientConnection connection = new OfficialClientConnection(cluster.broker(other).kafkaPort())) {
                CreateTopicsRequestData create = new CreateTopicsRequestData().setTimeoutMs(30_000);
                create.topics().add(new CreateTopicsRequestData.CreatableTopic().setName("refused")
                        .setNumPartitions(1).setReplicationFactor((short) 1));
                CreateTopicsResponse created = connection.call(new CreateTopicsRequest.Builder(create).build((short) 7));
                CreatableTopicResult result = created.data().topics().find("refused");
                assertEquals(Errors.NOT_CONTROLLER.code(), result.errorCode(), created.data().toString());
                assertEquals("", result.errorMessage(), "Kafka 3.9's result leaves the message at its default");
                assertEquals(-1, result.numPartitions());

                CreatePartitionsRequestData grow = new CreatePartitionsRequestData().setTimeoutMs(30_000);
                grow.topics().add(new CreatePartitionsRequestData.CreatePartitionsTopic().setName("kept").setCount(2)
                        .setAssignments(null));
                CreatePartitionsResponse grown = connection.call(
                        new CreatePartitionsRequest.Builder(grow).build((short) 3));
                assertEquals(Errors.NOT_CONTROLLER.code(), grown.data().results().get(0).errorCode(),
                        grown.data().toString());
                assertEquals("kept", grown.data().results().get(0).name());
                assertNull(grown.data().results().get(0).errorMessage());

                DeleteTopicsRequestData delete = new DeleteTopicsRequestData().setTimeoutMs(30_000);
                delete.topics().add(new DeleteTopicsRequestData.DeleteTopicState().setName("kept"));
                DeleteTopicsResponse deleted = connection.call(new DeleteTopicsRequest.Builder(delete).build((short) 6));
                assertEquals(Errors.NOT_CONTROLLER.code(), deleted.data().responses().find("kept").errorCode());

                UpdateFeaturesRequestData features = new UpdateFeaturesRequestData().setValidateOnly(true)
                        .setTimeoutMs(30_000);
                features.featureUpdates().add(new UpdateFeaturesRequestData.FeatureUpdateKey()
                        .setFeature("transaction.version").setMaxVersionLevel((short) 0)
                        .setUpgradeType((byte) 2));
                UpdateFeaturesResponse updated = connection.call(
                        new UpdateFeaturesRequest.Builder(features).build((short) 1));
                assertEquals(Errors.NOT_CONTROLLER.code(), updated.data().errorCode(), updated.data().toString());
                assertEquals(List.of(), List.copyOf(updated.data().results()));

                AlterUserScramCredentialsRequestData scram = new AlterUserScramCredentialsRequestData();
                scram.upsertions().add(new AlterUserScramCredentialsRequestData.ScramCredentialUpsertion()
                        .setName("alice").setMechanism((byte) 1).setIterations(4096).setSalt(new byte[] {1, 2, 3})
                        .setSaltedPassword(new byte[32]));
                AlterUserScramCredentialsResponse altered = connection.call(
                        new AlterUserScramCredentialsRequest.Builder(scram).build((short) 0));
                assertEquals(Errors.NOT_CONTROLLER.code(), altered.data().results().get(0).errorCode());

                AlterPartitionResponse isr = connection.call(new AlterPartitionRequest.Builder(
                        new AlterPartitionRequestData().setBrokerId(other).setBrokerEpoch(1)).build((short) 2));
                assertEquals(Errors.NOT_CONTROLLER.code(), isr.data().errorCode());

                AllocateProducerIdsResponse ids = connection.call(new AllocateProducerIdsRequest.Builder(
                        new AllocateProducerIdsRequestData().setBrokerId(other).setBrokerEpoch(1)).build((short) 0));
                assertEquals(Errors.NOT_CONTROLLER.code(), ids.data().errorCode());
            }
            // Nothing was done: no topic, the same partition count, the kept topic still there.
            Set<String> names = admin.listTopics().names().get(WAIT_MS, TimeUnit.MILLISECONDS);
            assertFalse(names.contains("refused"), names.toString());
            assertEquals(1, PartitionWaits.describe(admin, "kept").partitions().size());
        }
    }

    @Test
    void shouldCreateGrowAndDeleteTopicsWithAnAdminClientBootstrappedOnAnyBroker(TandemCluster cluster)
            throws Exception {
        for (int id = 1; id <= 3; id++) {
            String topic = "through-" + id;
            try (Admin admin = admin(cluster.broker(id).bootstrapServers())) {
                admin.createTopics(List.of(new NewTopic(topic, 1, (short) 3))).all().get(WAIT_MS, TimeUnit.MILLISECONDS);
                admin.createPartitions(Map.of(topic, NewPartitions.increaseTo(2))).all()
                        .get(WAIT_MS, TimeUnit.MILLISECONDS);
                MetadataWait.propagated(cluster, topic, 2);
                assertEquals(2, PartitionWaits.describe(admin, topic).partitions().size());
                admin.deleteTopics(List.of(topic)).all().get(WAIT_MS, TimeUnit.MILLISECONDS);
                MetadataWait.deleted(cluster, topic);
                assertFalse(admin.listTopics().names().get(WAIT_MS, TimeUnit.MILLISECONDS).contains(topic));
            }
        }
    }

    private static int awaitController(TandemCluster cluster) throws InterruptedException {
        long deadline = System.currentTimeMillis() + WAIT_MS;
        while (cluster.controllerId() < 0) {
            if (System.currentTimeMillis() > deadline) throw new AssertionError("no controller");
            Thread.sleep(20);
        }
        int controller = cluster.controllerId();
        assertNotEquals(-1, controller);
        return controller;
    }

    private static Admin admin(String bootstrap) {
        return Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
                AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 60_000));
    }
}
