package io.tandem.kafka.wire.record;

/** Where a batch's timestamps come from, as in Kafka: the producer's clock or the broker's at append time. */
public enum TimestampType {
    /** Message format v0 has no timestamps at all. */
    NO_TIMESTAMP_TYPE(-1, "NoTimestampType"),
    CREATE_TIME(0, "CreateTime"),
    LOG_APPEND_TIME(1, "LogAppendTime");

    public final int id;
    /** The name used in the {@code message.timestamp.type} topic config. */
    public final String configName;

    TimestampType(int id, String configName) {
        this.id = id;
        this.configName = configName;
    }
}
