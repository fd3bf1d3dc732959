package io.tandem.server.kafka.group.consumer;

import java.util.Collection;
import java.util.List;
import java.util.UUID;

/** The cluster's topics as the consumer group coordinator needs them, without reaching into the broker. */
public interface TopicsView {
    /** The topic, or null if it does not exist. */
    TopicRef byName(String name);

    /** The topic, or null if it does not exist. */
    TopicRef byId(UUID id);

    /** Every topic name the cluster has (internal ones too, as Kafka's regex resolution sees them). */
    Collection<String> names();

    /** The racks of the partition's replicas' brokers (those that have one), as Kafka's metadata image gives them. */
    default List<String> partitionRacks(String topic, int partition) {
        return List.of();
    }
}
