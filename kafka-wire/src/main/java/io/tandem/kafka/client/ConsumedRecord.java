package io.tandem.kafka.client;

import java.util.List;

/** A record read from a partition, its bytes copied out of the fetch response; key and value may be null. */
public record ConsumedRecord(String topic, int partition, long offset, long timestamp, String timestampType,
                             byte[] key, byte[] value, List<RecordHeader> headers) {
}
