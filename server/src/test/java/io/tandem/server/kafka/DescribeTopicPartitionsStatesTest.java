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
 * out, as Metadata leaves it out. The answer used to list it anyway, with no leader and its replicas as the ISR.
 */
class DescribeTopicPartitionsStatesTest {
    private static final String TOPIC = "half-led";
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

            DescribeTopicPartitionsResponseTopic described = null;
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (System.nanoTime() < deadline) {
                described = describe(connection).topics().find(TOPIC);
                boolean led = described != null && described.errorCode() == Errors.NONE.code()
                        && described.partitions().stream().anyMatch(p -> p.partitionIndex() == 0 && p.leaderId() == self);
                if (led) break;
                Thread.sleep(50);
            }
            List<Integer> listed = new ArrayList<>();
            for (DescribeTopicPartitionsResponsePartition p : described.partitions()) listed.add(p.partitionIndex());
            assertEquals(List.of(0), listed, described.toString());
            assertEquals(List.of(self), described.partitions().get(0).isrNodes());
            assertNull(describe(connection).nextCursor());

            // Metadata answers the same partitions.
            MetadataResponseTopic topic = CreationCalls.topicMetadata(connection, false, TOPIC);
            assertEquals(1, topic.partitions().size(), topic.toString());
        }
    }

    private static DescribeTopicPartitionsResponseData describe(OfficialClientConnection connection) throws Exception {
        DescribeTopicPartitionsRequestData data = new DescribeTopicPartitionsRequestData().setResponsePartitionLimit(2000);
        data.topics().add(new DescribeTopicPartitionsRequestData.TopicRequest().setName(TOPIC));
        DescribeTopicPartitionsResponse response =
                connection.call(new DescribeTopicPartitionsRequest.Builder(data).build((short) 0));
        return response.data();
    }
}
