package io.tandem.kafka.client;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.ByteBuffer;
import java.util.List;
import java.util.Random;
import java.util.UUID;
import org.apache.kafka.clients.consumer.ConsumerPartitionAssignor;
import org.apache.kafka.clients.consumer.internals.ConsumerProtocol;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.utils.Utils;
import org.junit.jupiter.api.Test;

/** The client's small codecs agree with Kafka's own classes byte for byte. */
class ClientCodecsTest {
    @Test
    void shouldHashKeysExactlyAsKafkasMurmur2() {
        Random random = new Random(42);
        for (int length = 0; length < 64; length++) {
            for (int i = 0; i < 20; i++) {
                byte[] key = new byte[length];
                random.nextBytes(key);
                assertEquals(Utils.murmur2(key), Partitioner.murmur2(key));
                assertEquals(Utils.toPositive(Utils.murmur2(key)) % 7, Partitioner.partitionForKey(key, 7));
            }
        }
    }

    @Test
    void shouldReadConsumerAssignmentsKafkasConsumerWrites() {
        List<org.apache.kafka.common.TopicPartition> assigned = List.of(
                new org.apache.kafka.common.TopicPartition("orders", 2),
                new org.apache.kafka.common.TopicPartition("orders", 0),
                new org.apache.kafka.common.TopicPartition("billing", 1));
        for (short version = 0; version <= 3; version++) {
            ByteBuffer bytes = ConsumerProtocol.serializeAssignment(
                    new ConsumerPartitionAssignor.Assignment(assigned, ByteBuffer.wrap(new byte[] {1, 2})), version);
            byte[] array = new byte[bytes.remaining()];
            bytes.get(array);
            assertEquals(List.of(new TopicPartition("billing", 1), new TopicPartition("orders", 0),
                    new TopicPartition("orders", 2)), ours(array));
        }
        assertEquals(List.of(), ours(new byte[0]));
        assertEquals(List.of(), ours(new byte[] {0, 0, 0, 0, 0, 9}), "a truncated assignment reads as empty");
    }

    private static List<TopicPartition> ours(byte[] assignment) {
        return io.tandem.kafka.client.ConsumerProtocol.assignedPartitions(assignment);
    }

    @Test
    void shouldFormatIdsAsKafkasUuidDoes() {
        Random random = new Random(7);
        for (int i = 0; i < 100; i++) {
            UUID id = new UUID(random.nextLong(), random.nextLong());
            assertEquals(new Uuid(id.getMostSignificantBits(), id.getLeastSignificantBits()).toString(),
                    KafkaUuids.format(id));
        }
    }
}
