package io.tandem.server.kafka;

/** Where a config value DescribeConfigs reports came from, with Kafka's ConfigSource codes (DescribeConfigs v1+). */
public enum ConfigSource {
    TOPIC_CONFIG(1), DYNAMIC_BROKER_CONFIG(2), DYNAMIC_DEFAULT_BROKER_CONFIG(3), STATIC_BROKER_CONFIG(4),
    DEFAULT_CONFIG(5), GROUP_CONFIG(8);

    public final byte code;

    ConfigSource(int code) {
        this.code = (byte) code;
    }
}
