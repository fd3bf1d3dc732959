package io.tandem.server.kafka;

import io.tandem.server.Tandem;
import org.apache.kafka.common.message.AlterConfigsRequestData;
import org.apache.kafka.common.message.AlterConfigsResponseData;
import org.apache.kafka.common.message.CreatePartitionsRequestData;
import org.apache.kafka.common.message.CreatePartitionsResponseData;
import org.apache.kafka.common.message.CreateTopicsResponseData;
import org.apache.kafka.common.message.DeleteTopicsRequestData;
import org.apache.kafka.common.message.DeleteTopicsResponseData;
import org.apache.kafka.common.message.DescribeClusterRequestData;
import org.apache.kafka.common.message.DescribeClusterResponseData;
import org.apache.kafka.common.message.DescribeConfigsRequestData;
import org.apache.kafka.common.message.DescribeConfigsResponseData;
import org.apache.kafka.common.message.FindCoordinatorRequestData;
import org.apache.kafka.common.message.FindCoordinatorResponseData;
import org.apache.kafka.common.message.IncrementalAlterConfigsRequestData;
import org.apache.kafka.common.message.IncrementalAlterConfigsResponseData;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.AlterConfigsRequest;
import org.apache.kafka.common.requests.AlterConfigsResponse;
import org.apache.kafka.common.requests.CreatePartitionsRequest;
import org.apache.kafka.common.requests.CreatePartitionsResponse;
import org.apache.kafka.common.requests.DeleteTopicsRequest;
import org.apache.kafka.common.requests.DeleteTopicsResponse;
import org.apache.kafka.common.requests.DescribeClusterRequest;
import org.apache.kafka.common.requests.DescribeClusterResponse;
import org.apache.kafka.common.requests.DescribeConfigsRequest;
import org.apache.kafka.common.requests.DescribeConfigsResponse;
import org.apache.kafka.common.requests.FindCoordinatorRequest;
import org.apache.kafka.common.requests.FindCoordinatorResponse;
import org.apache.kafka.common.requests.IncrementalAlterConfigsRequest;
import org.apache.kafka.common.requests.IncrementalAlterConfigsResponse;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Nullable error messages are null, "" or a text exactly where Apache Kafka 3.9 sends them (observed against a real
 * 3.9.1 broker): responses are written by Tandem and decoded by the official kafka-clients classes, which keep the
 * difference between null and "".
 */
class NullableErrorMessagesTest extends OfficialClientBrokerTest {
    private static final byte TOPIC = 2;
    private CreateTopicsResponseData.CreatableTopicResult create(String topic, short version) throws IOException {
        return createTopic(topic, version, false, Map.of());
    }

    @Test
    void shouldSendNullMessageOnCreateTopicsSuccessAndTheReasonOnFailure() throws IOException {
        for (short version = 2; version <= 7; version++) { // kafka-clients 4.x builds v2+
            CreateTopicsResponseData.CreatableTopicResult created = create("created-" + version, version);
            assertEquals(Errors.NONE.code(), created.errorCode());
            assertNull(created.errorMessage(), "v" + version);
        }
        CreateTopicsResponseData.CreatableTopicResult exists = create("created-7", (short) 7);
        assertEquals(Errors.TOPIC_ALREADY_EXISTS.code(), exists.errorCode());
        assertEquals("Topic 'created-7' already exists.", exists.errorMessage());
    }

    @Test
    void shouldSendNullMessageOnDeleteTopicsSuccessAndFailureAsKafka39Does() throws IOException {
        create("doomed", (short) 7);
        DeleteTopicsRequestData data = new DeleteTopicsRequestData().setTimeoutMs(10_000);
        data.topics().add(new DeleteTopicsRequestData.DeleteTopicState().setName("doomed"));
        data.topics().add(new DeleteTopicsRequestData.DeleteTopicState().setName("missing"));
        DeleteTopicsResponse response = connection.call(new DeleteTopicsRequest.Builder(data).build((short) 6));
        DeleteTopicsResponseData.DeletableTopicResult deleted = response.data().responses().find("doomed");
        DeleteTopicsResponseData.DeletableTopicResult missing = response.data().responses().find("missing");
        assertEquals(Errors.NONE.code(), deleted.errorCode());
        assertNull(deleted.errorMessage());
        assertEquals(Errors.UNKNOWN_TOPIC_OR_PARTITION.code(), missing.errorCode());
        assertNull(missing.errorMessage());
    }

    @Test
    void shouldSendNullMessageOnCreatePartitionsSuccess() throws IOException {
        create("grown", (short) 7);
        CreatePartitionsRequestData data = new CreatePartitionsRequestData().setTimeoutMs(10_000);
        data.topics().add(new CreatePartitionsRequestData.CreatePartitionsTopic().setName("grown").setCount(2)
                .setAssignments(null));
        CreatePartitionsResponse response = connection.call(new CreatePartitionsRequest.Builder(data).build((short) 3));
        CreatePartitionsResponseData.CreatePartitionsTopicResult result = response.data().results().get(0);
        assertEquals(Errors.NONE.code(), result.errorCode());
        assertNull(result.errorMessage());
    }

    @Test
    void shouldRefuseAnEmptyAssignmentListAsKafkaDoes() throws IOException {
        create("assigned", (short) 7);
        CreatePartitionsRequestData data = new CreatePartitionsRequestData().setTimeoutMs(10_000);
        data.topics().add(new CreatePartitionsRequestData.CreatePartitionsTopic().setName("assigned").setCount(2)
                .setAssignments(List.of()));
        CreatePartitionsResponse response = connection.call(new CreatePartitionsRequest.Builder(data).build((short) 3));
        CreatePartitionsResponseData.CreatePartitionsTopicResult result = response.data().results().get(0);
        assertEquals(Errors.INVALID_REPLICA_ASSIGNMENT.code(), result.errorCode());
        assertEquals("Increasing the number of partitions by 1 but 0 assignments provided.", result.errorMessage());
    }

    @Test
    void shouldSendNullMessageOnAlterConfigsAndIncrementalAlterConfigsSuccess() throws IOException {
        create("altered", (short) 7);
        AlterConfigsRequestData alter = new AlterConfigsRequestData();
        AlterConfigsRequestData.AlterConfigsResource resource = new AlterConfigsRequestData.AlterConfigsResource()
                .setResourceType(TOPIC).setResourceName("altered");
        resource.configs().add(new AlterConfigsRequestData.AlterableConfig().setName("retention.ms").setValue("100000"));
        alter.resources().add(resource);
        AlterConfigsResponse altered = connection.call(new AlterConfigsRequest(alter, (short) 2));
        AlterConfigsResponseData.AlterConfigsResourceResponse result = altered.data().responses().get(0);
        assertEquals(Errors.NONE.code(), result.errorCode());
        assertNull(result.errorMessage());

        IncrementalAlterConfigsRequestData incremental = new IncrementalAlterConfigsRequestData();
        IncrementalAlterConfigsRequestData.AlterConfigsResource incrementalResource =
                new IncrementalAlterConfigsRequestData.AlterConfigsResource().setResourceType(TOPIC)
                        .setResourceName("altered");
        incrementalResource.configs().add(new IncrementalAlterConfigsRequestData.AlterableConfig()
                .setName("retention.ms").setValue("200000").setConfigOperation((byte) 0));
        incremental.resources().add(incrementalResource);
        IncrementalAlterConfigsResponse incrementallyAltered =
                connection.call(new IncrementalAlterConfigsRequest.Builder(incremental).build((short) 1));
        IncrementalAlterConfigsResponseData.AlterConfigsResourceResponse incrementalResult =
                incrementallyAltered.data().responses().get(0);
        assertEquals(Errors.NONE.code(), incrementalResult.errorCode());
        assertNull(incrementalResult.errorMessage());
    }

    @Test
    void shouldSendEmptyMessageAndNullDocumentationOnDescribeConfigsSuccess() throws IOException {
        create("described", (short) 7);
        DescribeConfigsRequestData data = new DescribeConfigsRequestData();
        data.resources().add(new DescribeConfigsRequestData.DescribeConfigsResource().setResourceType(TOPIC)
                .setResourceName("described").setConfigurationKeys(List.of("retention.ms")));
        DescribeConfigsResponse response = connection.call(new DescribeConfigsRequest.Builder(data).build((short) 4));
        DescribeConfigsResponseData.DescribeConfigsResult result = response.data().results().get(0);
        assertEquals(Errors.NONE.code(), result.errorCode());
        assertEquals("", result.errorMessage()); // Kafka 3.9 sends "" here, not null
        assertNull(result.configs().get(0).documentation());
    }

    @Test
    void shouldSendTheCodeAloneForAnUnknownTopicOnDescribeConfigs() throws IOException {
        DescribeConfigsRequestData data = new DescribeConfigsRequestData();
        data.resources().add(new DescribeConfigsRequestData.DescribeConfigsResource().setResourceType(TOPIC)
                .setResourceName("never-created"));
        DescribeConfigsResponse response = connection.call(new DescribeConfigsRequest.Builder(data).build((short) 4));
        DescribeConfigsResponseData.DescribeConfigsResult result = response.data().results().get(0);
        assertEquals(Errors.UNKNOWN_TOPIC_OR_PARTITION.code(), result.errorCode());
        // Kafka's ConfigHelper sets only the code: the message is the field's default, "" (kafka-configs.sh shows
        // the exception's own text then, not a sentence of the broker's).
        assertEquals("", result.errorMessage());
        assertEquals("never-created", result.resourceName());
        assertTrue(result.configs().isEmpty());
    }

    @Test
    void shouldSendNoneTextBeforeV4AndEmptyTextFromV4OnFindCoordinator() throws IOException {
        FindCoordinatorResponseData old = null;
        for (int attempt = 0; attempt < 50; attempt++) { // the offsets topic may take a moment to get a leader
            FindCoordinatorResponse response = connection.call(new FindCoordinatorRequest.Builder(
                    new FindCoordinatorRequestData().setKey("group").setKeyType((byte) 0)).build((short) 3));
            old = response.data();
            if (old.errorCode() == Errors.NONE.code()) break;
            assertEquals(Errors.COORDINATOR_NOT_AVAILABLE.code(), old.errorCode());
            assertEquals("The coordinator is not available.", old.errorMessage());
            sleep();
        }
        assertEquals(Errors.NONE.code(), old.errorCode());
        assertEquals("NONE", old.errorMessage());

        FindCoordinatorResponse batched = connection.call(new FindCoordinatorRequest.Builder(
                new FindCoordinatorRequestData().setKeyType((byte) 0).setCoordinatorKeys(List.of("group")))
                .build((short) 4));
        FindCoordinatorResponseData.Coordinator coordinator = batched.data().coordinators().get(0);
        assertEquals(Errors.NONE.code(), coordinator.errorCode());
        assertEquals("", coordinator.errorMessage());
        FindCoordinatorResponse transaction = connection.call(new FindCoordinatorRequest.Builder(
                new FindCoordinatorRequestData().setKeyType((byte) 1).setCoordinatorKeys(List.of("tx")))
                .build((short) 4));
        // A transaction coordinator (its state topic made on this first lookup, so perhaps not ready yet): "" too.
        short txnError = transaction.data().coordinators().get(0).errorCode();
        assertTrue(txnError == Errors.NONE.code() || txnError == Errors.COORDINATOR_NOT_AVAILABLE.code(), "" + txnError);
        assertEquals("", transaction.data().coordinators().get(0).errorMessage());
    }

    @Test
    void shouldSendNullMessageOnDescribeClusterSuccessAndKafkasMismatchForControllerEndpoints() throws IOException {
        DescribeClusterResponse ok = connection.call(new DescribeClusterRequest.Builder(
                new DescribeClusterRequestData()).build((short) 1));
        assertEquals(Errors.NONE.code(), ok.data().errorCode());
        assertNull(ok.data().errorMessage());
        DescribeClusterResponse controller = connection.call(new DescribeClusterRequest.Builder(
                new DescribeClusterRequestData().setEndpointType((byte) 2)).build((short) 1));
        DescribeClusterResponseData data = controller.data();
        assertEquals(Errors.MISMATCHED_ENDPOINT_TYPE.code(), data.errorCode());
        assertEquals("The request was sent to an endpoint of type BROKER, but we wanted an endpoint of type CONTROLLER",
                data.errorMessage());
        assertEquals("", data.clusterId());
        assertEquals(-1, data.controllerId());
        assertTrue(data.brokers().isEmpty());
        DescribeClusterResponse unknown = connection.call(new DescribeClusterRequest.Builder(
                new DescribeClusterRequestData().setEndpointType((byte) 3)).build((short) 1));
        assertEquals(Errors.UNSUPPORTED_ENDPOINT_TYPE.code(), unknown.data().errorCode());
        assertEquals("Unsupported endpoint type 3", unknown.data().errorMessage());
    }

    @Test
    void shouldSendNullAbortedTransactionsToReadUncommittedFetchesAndAListToReadCommitted() throws IOException {
        create("fetched", (short) 7);
        for (byte isolation : new byte[] {0, 1}) {
            org.apache.kafka.common.message.FetchRequestData data = new org.apache.kafka.common.message.FetchRequestData()
                    .setReplicaId(-1).setMaxWaitMs(0).setMinBytes(1).setMaxBytes(1 << 20).setSessionEpoch(-1)
                    .setIsolationLevel(isolation).setTopics(List.of(
                            new org.apache.kafka.common.message.FetchRequestData.FetchTopic().setTopic("fetched")
                                    .setPartitions(List.of(new org.apache.kafka.common.message.FetchRequestData
                                            .FetchPartition().setPartition(0).setFetchOffset(0)
                                            .setPartitionMaxBytes(1 << 20)))));
            org.apache.kafka.common.requests.FetchResponse response = connection.call(
                    new org.apache.kafka.common.requests.FetchRequest(data, (short) 12));
            var partition = response.data().responses().get(0).partitions().get(0);
            assertEquals(Errors.NONE.code(), partition.errorCode());
            if (isolation == 0) assertNull(partition.abortedTransactions());
            else assertEquals(List.of(), partition.abortedTransactions());
        }
    }

    private static void sleep() {
        try {
            Thread.sleep(100);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }
}
