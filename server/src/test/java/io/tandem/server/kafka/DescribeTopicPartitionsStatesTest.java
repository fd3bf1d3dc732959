package io.tandem.server.kafka;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.tandem.server.Tandem;
import io.tandem.server.TandemConfig;
import io.tandem.server.kafka.metadata.KafkaZkLayout;
import io.tandem.server.kafka.metadata.TopicAssignment;
import io.tandem.server.kafka.metadata.TopicId;
import io.tandem.server.kafka.metadata.ZkZnodeStore;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;
import org.apache.kafka.common.message.DescribeTopicPartitionsRequestData;
import org.apache.kafka.common.message.DescribeTopicPartitionsResponseData;
import org.apache.kafka.common.message.DescribeTopicPartitionsResponseData.DescribeTopicPartitionsResponsePartition;
import org.apache.kafka.common.message.DescribeTopicPartitionsResponseData.DescribeTopicPartitionsResponseTopic;
import org.apache.kafka.common.message.MetadataResponseData.MetadataResponseTopic;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.DescribeTopicPartitionsRequest;
import org.apache.kafka.common.requests.DescribeTopicPartitionsResponse;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * DescribeTopicPartitions lists a topic's partitions as Kafka 4.x's KRaftMetadataCache does: those its metadata
 * image holds, which in ZooKeeper mode are those the controller has given a state (UpdateMetadata). A partition whose
 * only replica is a broker that never registered is never led, so the controller never sends its state: it is left
 * out, as Metadata leaves it out, and one after it is still listed. The answer used to list it anyway, with no leader
 * and its replicas as the ISR.
 */
class DescribeTopicPartitionsStatesTest {
    private static final String TOPIC = "half-led";
    /** Its first partition never led, its second led: the second is listed all the same. */
    private static final String LATE = "late-led";
    private static final int NEVER_REGISTERED = 7;
    @TempDir
    Path dir;

    @Test
    void aPartitionTheControllerNeverGaveAStateIsNotListed() throws Exception {
        try (Tandem tandem = Tandem.start(TandemConfig.forTests(dir));
             OfficialClientConnection connection = new OfficialClientConnection(tandem.kafkaPort());
             ZkZnodeStore zk = ZkZnodeStore.connect(tandem.zookeeperConnect(), Duration.ofSeconds(10),
                     Duration.ofSeconds(30))) {
            int self = 0; // the test configuration's broker id
            TreeMap<Integer, List<Integer>> assignment = new TreeMap<>();
            assignment.put(0, List.of(self));
            assignment.put(1, List.of(NEVER_REGISTERED));
            // Written as another broker's admin path writes a topic: the controller's watch picks it up.
            zk.create(KafkaZkLayout.topicPath(TOPIC),
                    KafkaZkLayout.encodeTopicAssignment(new TopicAssignment(TopicId.random(), assignment)), false);
            TreeMap<Integer, List<Integer>> late = new TreeMap<>();
            late.put(0, List.of(NEVER_REGISTERED));
            late.put(1, List.of(self));
            zk.create(KafkaZkLayout.topicPath(LATE),
                    KafkaZkLayout.encodeTopicAssignment(new TopicAssignment(TopicId.random(), late)), false);

            DescribeTopicPartitionsResponseTopic described = awaitLed(connection, TOPIC, 0, self);
            assertEquals(List.of(0), indexes(described), described.toString());
            assertEquals(List.of(self), described.partitions().get(0).isrNodes());
            DescribeTopicPartitionsResponseTopic second = awaitLed(connection, LATE, 1, self);
            assertEquals(List.of(1), indexes(second), second.toString());
            DescribeTopicPartitionsResponseData both = describe(connection, 1, TOPIC, LATE);
            assertEquals(List.of(0), indexes(both.topics().find(TOPIC)), both.toString());
            // The page is full after the first topic's only partition: the cursor points at the next topic.
            assertEquals(LATE, both.nextCursor().topicName());
            assertNull(describe(connection, 2000, TOPIC, LATE).nextCursor());

            // Metadata answers the same partitions.
            MetadataResponseTopic topic = CreationCalls.topicMetadata(connection, false, TOPIC);
            assertEquals(1, topic.partitions().size(), topic.toString());
        }
    }

    /** The topic once its partition {@code index} is led by {@code leader} (the controller's UpdateMetadata came). */
    private static DescribeTopicPartitionsResponseTopic awaitLed(OfficialClientConnection connection, String topic,
                                                                 int index, int leader) throws Exception {
        DescribeTopicPartitionsResponseTopic described = null;
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (System.nanoTime() < deadline) {
            described = describe(connection, 2000, topic).topics().find(topic);
            boolean led = described != null && described.errorCode() == Errors.NONE.code() && described.partitions()
                    .stream().anyMatch(p -> p.partitionIndex() == index && p.leaderId() == leader);
            if (led) break;
            Thread.sleep(50);
        }
        return described;
    }

    private static List<Integer> indexes(DescribeTopicPartitionsResponseTopic topic) {
        List<Integer> listed = new ArrayList<>();
        for (DescribeTopicPartitionsResponsePartition p : topic.partitions()) listed.add(p.partitionIndex());
        return listed;
    }

    private static DescribeTopicPartitionsResponseData describe(OfficialClientConnection connection, int limit,
                                                                String... topics) throws Exception {
        DescribeTopicPartitionsRequestData data = new DescribeTopicPartitionsRequestData().setResponsePartitionLimit(limit);
        for (String topic : topics) data.topics().add(new DescribeTopicPartitionsRequestData.TopicRequest().setName(topic));
        DescribeTopicPartitionsResponse response =
                connection.call(new DescribeTopicPartitionsRequest.Builder(data).build((short) 0));
        return response.data();
    }
}
