package io.tandem.kafka.client;

import java.util.List;

/** A record to produce; key and value may be null, {@code timestamp} is the create time in ms. */
public record ProducerRecord(byte[] key, byte[] value, List<RecordHeader> headers, long timestamp) {
}
