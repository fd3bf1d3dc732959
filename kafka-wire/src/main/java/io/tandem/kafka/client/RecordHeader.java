package io.tandem.kafka.client;

/** A record header; the value may be null, as Kafka allows. */
public record RecordHeader(String key, byte[] value) {
}
