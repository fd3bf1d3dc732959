package io.tandem.server.kafka;

import io.tandem.server.Tandem;
import io.tandem.server.TandemConfig;
import org.apache.kafka.common.message.CreateTopicsRequestData;
import org.apache.kafka.common.message.FetchRequestData;
import org.apache.kafka.common.message.FetchResponseData;
import org.apache.kafka.common.message.FindCoordinatorRequestData;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.CreateTopicsRequest;
import org.apache.kafka.common.requests.FetchRequest;
import org.apache.kafka.common.requests.FetchResponse;
import org.apache.kafka.common.requests.FindCoordinatorRequest;
import org.apache.kafka.common.requests.FindCoordinatorResponse;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.*;

/** Answers whose shape Kafka fixes beyond the error code (observed against real 3.9.1 and 4.4 brokers). */
class FetchErrorAnswersTest {
    @TempDir
    Path dir;
    private Tandem tandem;
    private OfficialClientConnection connection;

    @BeforeEach
    void start() throws IOException {
        tandem = Tandem.start(TandemConfig.forTests(dir).roles(Set.of(TandemConfig.Role.KAFKA)));
        connection = new OfficialClientConnection(tandem.kafkaPort());
        CreateTopicsRequestData create = new CreateTopicsRequestData().setTimeoutMs(10_000);
        create.topics().add(new CreateTopicsRequestData.CreatableTopic().setName("known").setNumPartitions(1)
                .setReplicationFactor((short) 1));
        connection.call(new CreateTopicsRequest.Builder(create).build((short) 7));
    }

    @AfterEach
    void stop() throws IOException {
        connection.close();
        tandem.close();
    }

    @Test
    void shouldAnswerUnknownPartitionsLastAndFailedReadsWithUnknownOffsets() throws IOException {
        FetchRequestData data = new FetchRequestData().setReplicaId(-1).setMaxWaitMs(0).setMinBytes(1)
                .setMaxBytes(1 << 20).setSessionEpoch(-1).setTopics(List.of(
                        new FetchRequestData.FetchTopic().setTopic("missing").setPartitions(List.of(
                                new FetchRequestData.FetchPartition().setPartition(0).setPartitionMaxBytes(1024))),
                        new FetchRequestData.FetchTopic().setTopic("known").setPartitions(List.of(
                                new FetchRequestData.FetchPartition().setPartition(0).setFetchOffset(99)
                                        .setPartitionMaxBytes(1024)))));
        FetchResponse response = connection.call(new FetchRequest(data, (short) 12));
        List<FetchResponseData.FetchableTopicResponse> topics = response.data().responses();
        assertEquals(List.of("known", "missing"), topics.stream().map(t -> t.topic()).toList());
        FetchResponseData.PartitionData outOfRange = topics.get(0).partitions().get(0);
        assertEquals(Errors.OFFSET_OUT_OF_RANGE.code(), outOfRange.errorCode());
        assertEquals(-1, outOfRange.highWatermark());
        assertEquals(-1, outOfRange.lastStableOffset());
        assertEquals(-1, outOfRange.logStartOffset());
        assertNull(outOfRange.abortedTransactions());
        FetchResponseData.PartitionData unknown = topics.get(1).partitions().get(0);
        assertEquals(Errors.UNKNOWN_TOPIC_OR_PARTITION.code(), unknown.errorCode());
        assertEquals(List.of(), unknown.abortedTransactions());
    }

    @Test
    void shouldFindTheCoordinatorOfTheEmptyGroupIdAsKafkaDoes() throws Exception {
        for (int attempt = 0; attempt < 50; attempt++) {
            FindCoordinatorResponse response = connection.call(new FindCoordinatorRequest.Builder(
                    new FindCoordinatorRequestData().setKey("").setKeyType((byte) 0)).build((short) 3));
            if (response.data().errorCode() == Errors.NONE.code()) {
                assertEquals(0, response.data().nodeId());
                return;
            }
            assertEquals(Errors.COORDINATOR_NOT_AVAILABLE.code(), response.data().errorCode());
            Thread.sleep(100);
        }
        fail("no coordinator for the empty group id");
    }
}
