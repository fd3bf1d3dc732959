package io.tandem.kafka.client;

import io.tandem.kafka.wire.Errors;

/**
 * Metadata says the topic (or the partition of it) does not exist. Kafka calls UNKNOWN_TOPIC_OR_PARTITION retriable
 * because a new topic takes a moment to reach every broker, but a tool asked about a topic that is simply not there
 * should say so at once rather than retry until its timeout; {@link KafkaClient#retrying} therefore does not retry
 * this one.
 */
public final class UnknownTopicException extends KafkaClientException {
    private static final long serialVersionUID = 1L;

    private final String topic;

    public UnknownTopicException(String topic) {
        super(Errors.UNKNOWN_TOPIC_OR_PARTITION, "topic '" + topic + "' does not exist");
        this.topic = topic;
    }

    /** The topic exists but has no such partition. */
    public UnknownTopicException(String topic, int partition) {
        super(Errors.UNKNOWN_TOPIC_OR_PARTITION, "partition " + partition + " of topic '" + topic + "' does not exist");
        this.topic = topic;
    }

    public String topic() {
        return topic;
    }
}
