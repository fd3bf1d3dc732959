/**
 * A small blocking Kafka client on kafka-wire's codecs, for tools such as the {@code tandem} client commands:
 * {@link io.tandem.kafka.client.KafkaClient} (connections and metadata), {@link io.tandem.kafka.client.KafkaAdmin}
 * (topics, configs, offsets), {@link io.tandem.kafka.client.GroupAdmin} (consumer groups),
 * {@link io.tandem.kafka.client.RecordSender} (produce) and {@link io.tandem.kafka.client.RecordFetcher} (fetch).
 * It holds no broker state and talks to any Kafka broker over the wire.
 */
package io.tandem.kafka.client;
