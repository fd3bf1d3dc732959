package io.tandem.server.kafka;

import io.tandem.server.Tandem;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewPartitions;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.TopicPartitionInfo;
import org.apache.kafka.common.errors.InvalidReplicaAssignmentException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * CreatePartitions with replica assignments (librdkafka's 0081_admin test, Kafka's admin
 * {@code NewPartitions.increaseTo(n, assignments)}): the new partitions are placed on the brokers named, and bad
 * assignments are refused with Kafka 3.9's INVALID_REPLICA_ASSIGNMENT messages, leaving the topic as it was.
 */
class CreatePartitionsAssignmentTest {
    @TempDir
    Path dir;

    @Test
    void shouldPlaceNewPartitionsOnTheBrokersTheAssignmentNamesAndRefuseBadOnes() throws Exception {
        try (Tandem tandem = Tandem.start(KafkaBrokerEndToEndTest.config(dir));
             Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, tandem.bootstrapServers(),
                     AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 30_000))) {
            int id = admin.describeCluster().nodes().get(30, TimeUnit.SECONDS).iterator().next().id();
            admin.createTopics(List.of(new NewTopic("placed", 1, (short) 1))).all().get(30, TimeUnit.SECONDS);

            refused(admin, NewPartitions.increaseTo(2, List.of(List.of(99))),
                    "Unknown broker(s) in replica assignment: 99.");
            refused(admin, NewPartitions.increaseTo(4, List.of(List.of(id))),
                    "Increasing the number of partitions by 3 but 1 assignments provided.");
            refused(admin, NewPartitions.increaseTo(2, List.of(List.of(id, id))),
                    "Duplicate brokers not allowed in replica assignment: " + id + ", " + id + " for partition id 1.");
            assertEquals(1, describe(admin).partitions().size(), "a refused request adds nothing");

            admin.createPartitions(Map.of("placed", NewPartitions.increaseTo(3, List.of(List.of(id), List.of(id)))))
                    .all().get(30, TimeUnit.SECONDS);
            List<TopicPartitionInfo> partitions = describe(admin).partitions();
            assertEquals(3, partitions.size());
            for (TopicPartitionInfo p : partitions) {
                assertEquals(id, p.replicas().get(0).id(), "replicas of partition " + p.partition());
                assertEquals(id, p.leader().id(), "leader of partition " + p.partition());
            }
        }
    }

    private static void refused(Admin admin, NewPartitions request, String message) {
        ExecutionException e = assertThrows(ExecutionException.class,
                () -> admin.createPartitions(Map.of("placed", request)).all().get(30, TimeUnit.SECONDS));
        assertInstanceOf(InvalidReplicaAssignmentException.class, e.getCause(), message);
        assertEquals(message, e.getCause().getMessage());
    }

    private static TopicDescription describe(Admin admin) throws Exception {
        return admin.describeTopics(List.of("placed")).allTopicNames().get(30, TimeUnit.SECONDS).get("placed");
    }
}
