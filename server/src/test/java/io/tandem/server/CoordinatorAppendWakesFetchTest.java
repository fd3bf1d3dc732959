package io.tandem.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tandem.kafka.wire.ApiKey;
import io.tandem.kafka.wire.Errors;
import io.tandem.kafka.wire.message.FetchRequest;
import io.tandem.kafka.wire.message.FetchResponse;
import io.tandem.server.kafka.RawKafkaConnection;
import io.tandem.server.kafka.TestRequests;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A coordinator's append wakes the fetches parked on its partition at once, as Kafka's ReplicaManager completes the
 * delayed fetches of whatever it appended. Before, only a client's produce did: a follower of
 * {@code __consumer_offsets} parked at the log end got a group's record when its max wait ran out (500 ms), and CI
 * lost a LeaveGroup's record that way (ReplicationTest): the coordinator's broker stopped before the follower that
 * took over had fetched it, so the new coordinator still had the departed member and a new consumer's join waited out
 * that member's 45 s session. A consumer's fetch (a monitoring tool reading the offsets topic) is parked the same way
 * and is the one asked here, on one broker.
 */
class CoordinatorAppendWakesFetchTest {
    private static final String OFFSETS = "__consumer_offsets";
    /** Far longer than the wake-up takes, so an answer at the max wait cannot pass for one. */
    private static final int MAX_WAIT_MS = 20_000;
    @TempDir
    Path dir;

    @Test
    void shouldAnswerAFetchParkedOnTheOffsetsTopicAsSoonAsTheCoordinatorAppends() throws Exception {
        try (Tandem tandem = Tandem.start(TandemConfig.forTests(dir).set("offsets.topic.num.partitions", "1"));
             Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, tandem.bootstrapServers()));
             KafkaConsumer<String, String> committer = new KafkaConsumer<>(Map.of(
                     ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, tandem.bootstrapServers(),
                     ConsumerConfig.GROUP_ID_CONFIG, "committers"), new StringDeserializer(), new StringDeserializer());
             RawKafkaConnection reader = new RawKafkaConnection(tandem.kafkaPort())) {
            admin.createTopics(List.of(new NewTopic("read", 1, (short) 1))).all().get(30, TimeUnit.SECONDS);
            TopicPartition read = new TopicPartition("read", 0);
            committer.assign(List.of(read));
            // The first commit makes the offsets topic; the fetch then waits at its end.
            committer.commitSync(Map.of(read, new OffsetAndMetadata(1)));
            long end = TestRequests.latestOffset(reader, OFFSETS);
            assertTrue(end > 0, "the first commit is in the offsets topic");

            reader.socket.setSoTimeout(MAX_WAIT_MS + 10_000);
            int fetch = reader.send(ApiKey.FETCH, (short) 11, fetchFrom(end));
            long deadline = System.currentTimeMillis() + 10_000;
            while (tandem.kafkaBroker().fetchPurgatory().watched() == 0) {
                assertTrue(System.currentTimeMillis() < deadline, "the fetch was never parked");
                Thread.sleep(10);
            }
            long committedAt = System.nanoTime();
            committer.commitSync(Map.of(read, new OffsetAndMetadata(2)));
            FetchResponse answer = reader.receive(fetch, (short) 0, (short) 11, FetchResponse::read);
            long waitedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - committedAt);

            FetchResponse.PartitionData partition = answer.responses.get(0).partitions.get(0);
            assertEquals(Errors.NONE.code(), partition.errorCode);
            assertTrue(partition.records.readableBytes() > 0, "the fetch carries the second commit");
            assertTrue(waitedMs < MAX_WAIT_MS / 2, "the fetch was answered " + waitedMs + " ms after the commit: by"
                    + " its max wait of " + MAX_WAIT_MS + " ms, not by the coordinator's append");
        }
    }

    private static FetchRequest fetchFrom(long offset) {
        FetchRequest request = new FetchRequest();
        request.replicaId = -1;
        request.maxWaitMs = MAX_WAIT_MS;
        request.minBytes = 1;
        FetchRequest.FetchTopic topic = new FetchRequest.FetchTopic();
        topic.topic = OFFSETS;
        FetchRequest.FetchPartition partition = new FetchRequest.FetchPartition();
        partition.partition = 0;
        partition.fetchOffset = offset;
        partition.partitionMaxBytes = 1 << 20;
        topic.partitions.add(partition);
        request.topics.add(topic);
        return request;
    }
}
