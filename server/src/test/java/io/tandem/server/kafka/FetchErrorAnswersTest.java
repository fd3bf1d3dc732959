package io.tandem.server.kafka;

import org.apache.kafka.common.message.FetchRequestData;
import org.apache.kafka.common.message.FetchResponseData;
import org.apache.kafka.common.message.FindCoordinatorRequestData;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.FetchRequest;
import org.apache.kafka.common.requests.FetchResponse;
import org.apache.kafka.common.requests.FindCoordinatorRequest;
import org.apache.kafka.common.requests.FindCoordinatorResponse;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/** Answers whose shape Kafka fixes beyond the error code (observed against real 3.9.1 and 4.4 brokers). */
class FetchErrorAnswersTest extends OfficialClientBrokerTest {
    @BeforeEach
    void createKnownTopic() throws IOException {
        createTopic("known", (short) 7, false, Map.of());
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
