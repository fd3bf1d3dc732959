package io.tandem.server.kafka;

import io.tandem.server.Tandem;
import io.tandem.server.TandemConfig;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.message.DescribeTopicPartitionsRequestData;
import org.apache.kafka.common.message.DescribeTopicPartitionsResponseData;
import org.apache.kafka.common.message.DescribeTopicPartitionsResponseData.DescribeTopicPartitionsResponseTopic;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.DescribeTopicPartitionsRequest;
import org.apache.kafka.common.requests.DescribeTopicPartitionsResponse;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.*;

/** DescribeTopicPartitions pages topics by partition count and cursor as Apache Kafka 4.x does. */
class DescribeTopicPartitionsTest {
    @TempDir
    Path dir;
    private Tandem tandem;
    private Admin admin;
    private OfficialClientConnection connection;

    @BeforeEach
    void start() throws Exception {
        tandem = Tandem.start(TandemConfig.forTests(dir).roles(Set.of(TandemConfig.Role.KAFKA)));
        admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, "127.0.0.1:" + tandem.kafkaPort()));
        admin.createTopics(List.of(new NewTopic("alpha", 3, (short) 1), new NewTopic("beta", 2, (short) 1),
                new NewTopic("gamma", 1, (short) 1))).all().get();
        connection = new OfficialClientConnection(tandem.kafkaPort());
    }

    @AfterEach
    void stop() throws IOException {
        connection.close();
        admin.close();
        tandem.close();
    }

    private DescribeTopicPartitionsResponseData describe(List<String> topics, int limit, String cursorTopic,
                                                         int cursorPartition) throws IOException {
        DescribeTopicPartitionsRequestData data = new DescribeTopicPartitionsRequestData().setResponsePartitionLimit(limit);
        for (String t : topics) data.topics().add(new DescribeTopicPartitionsRequestData.TopicRequest().setName(t));
        if (cursorTopic != null) {
            data.setCursor(new DescribeTopicPartitionsRequestData.Cursor().setTopicName(cursorTopic)
                    .setPartitionIndex(cursorPartition));
        }
        DescribeTopicPartitionsResponse response =
                connection.call(new DescribeTopicPartitionsRequest.Builder(data).build((short) 0));
        return response.data();
    }

    private static List<String> partitions(DescribeTopicPartitionsResponseData data) {
        List<String> result = new ArrayList<>();
        for (DescribeTopicPartitionsResponseTopic t : data.topics()) {
            t.partitions().forEach(p -> result.add(t.name() + "-" + p.partitionIndex()));
        }
        return result;
    }

    @Test
    void shouldDescribeTopicsThroughTheJava4AdminClient() throws Exception {
        Map<String, TopicDescription> described = admin.describeTopics(List.of("alpha", "gamma")).allTopicNames().get();
        assertEquals(3, described.get("alpha").partitions().size());
        assertEquals(0, described.get("alpha").partitions().get(0).leader().id());
        assertEquals(1, described.get("gamma").partitions().size());
        assertNotNull(described.get("gamma").topicId());
    }

    @Test
    void shouldPageByThePartitionLimitWithACursorInsideATopic() throws IOException {
        DescribeTopicPartitionsResponseData first = describe(List.of("gamma", "alpha", "beta"), 2, null, 0);
        assertEquals(List.of("alpha-0", "alpha-1"), partitions(first));
        assertEquals("alpha", first.nextCursor().topicName());
        assertEquals(2, first.nextCursor().partitionIndex());

        DescribeTopicPartitionsResponseData second = describe(List.of("gamma", "alpha", "beta"), 3, "alpha", 2);
        assertEquals(List.of("alpha-2", "beta-0", "beta-1"), partitions(second));
        // The page filled up exactly at the end of beta: the cursor points at the next topic's partition 0.
        assertEquals("gamma", second.nextCursor().topicName());
        assertEquals(0, second.nextCursor().partitionIndex());

        DescribeTopicPartitionsResponseData last = describe(List.of("gamma", "alpha", "beta"), 3, "gamma", 0);
        assertEquals(List.of("gamma-0"), partitions(last));
        assertNull(last.nextCursor());
    }

    @Test
    void shouldListAllTopicsInNameOrderWhenNoneAreNamed() throws IOException {
        DescribeTopicPartitionsResponseData all = describe(List.of(), 2000, "beta", 1);
        List<String> names = new ArrayList<>();
        all.topics().forEach(t -> names.add(t.name()));
        assertEquals(List.of("beta", "gamma"), names);
        assertEquals(List.of("beta-1", "gamma-0"), partitions(all));
    }

    @Test
    void shouldReportUnknownAndInvalidNamedTopics() throws IOException {
        DescribeTopicPartitionsResponseData data = describe(List.of("missing", "bad name!"), 2000, null, 0);
        assertEquals(Errors.UNKNOWN_TOPIC_OR_PARTITION.code(), data.topics().find("missing").errorCode());
        assertEquals(Errors.INVALID_TOPIC_EXCEPTION.code(), data.topics().find("bad name!").errorCode());
    }

    @Test
    void shouldRefuseACursorOutsideTheNamedTopicsOrBelowZero() throws IOException {
        DescribeTopicPartitionsResponseData outside = describe(List.of("alpha"), 2000, "beta", 0);
        assertEquals(Errors.INVALID_REQUEST.code(), outside.topics().find("alpha").errorCode());
        assertTrue(outside.topics().find("alpha").partitions().isEmpty());
        DescribeTopicPartitionsResponseData negative = describe(List.of("alpha"), 2000, "alpha", -1);
        assertEquals(Errors.INVALID_REQUEST.code(), negative.topics().find("alpha").errorCode());
    }

    @Test
    void shouldDescribePartitionsAsKafkaDoes() throws IOException {
        DescribeTopicPartitionsResponseData data = describe(List.of("beta"), 2000, null, 0);
        DescribeTopicPartitionsResponseTopic beta = data.topics().find("beta");
        assertEquals(Errors.NONE.code(), beta.errorCode());
        assertFalse(beta.isInternal());
        assertEquals(3576, beta.topicAuthorizedOperations()); // every topic operation, as without an authorizer
        DescribeTopicPartitionsResponseData.DescribeTopicPartitionsResponsePartition p0 = beta.partitions().get(0);
        assertEquals(0, p0.leaderId());
        assertEquals(List.of(0), p0.replicaNodes());
        assertEquals(List.of(0), p0.isrNodes());
        assertEquals(List.of(), p0.eligibleLeaderReplicas());
        assertEquals(List.of(), p0.offlineReplicas());
    }
}
