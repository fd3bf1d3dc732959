package io.tandem.kafka.client;

/** Kafka's ConfigResource.Type codes, as DescribeConfigs and IncrementalAlterConfigs carry them. */
public enum ConfigResource {
    TOPIC((byte) 2),
    BROKER((byte) 4),
    BROKER_LOGGER((byte) 8);

    private final byte code;

    ConfigResource(byte code) {
        this.code = code;
    }

    public byte code() {
        return code;
    }
}
