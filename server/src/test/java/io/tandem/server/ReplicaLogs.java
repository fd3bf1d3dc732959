package io.tandem.server;

import io.tandem.server.kafka.TopicPartition;
import io.tandem.server.kafka.log.Partition;

/**
 * A running broker's own replica of a partition, for tests outside this package ({@link Tandem#kafkaBroker()} is
 * package-private): its log end, high watermark and role as the broker holds them, as Kafka's own tests read
 * {@code broker.replicaManager}.
 */
public final class ReplicaLogs {
    private ReplicaLogs() {
    }

    /** The broker's replica of {@code topic}'s {@code partition}, null while it holds none. */
    public static Partition of(Tandem broker, String topic, int partition) {
        return broker.kafkaBroker().logs().partitions().get(new TopicPartition(topic, partition));
    }
}
