package io.tandem.kafka.client;

/** Kafka's DescribeConfigsResponse.ConfigSource codes: where a config value comes from. */
public enum ConfigSource {
    UNKNOWN(0),
    DYNAMIC_TOPIC_CONFIG(1),
    DYNAMIC_BROKER_CONFIG(2),
    DYNAMIC_DEFAULT_BROKER_CONFIG(3),
    STATIC_BROKER_CONFIG(4),
    DEFAULT_CONFIG(5),
    DYNAMIC_BROKER_LOGGER_CONFIG(6),
    CLIENT_METRICS_CONFIG(7),
    GROUP_CONFIG(8);

    private final int code;

    ConfigSource(int code) {
        this.code = code;
    }

    public int code() {
        return code;
    }

    public static ConfigSource forCode(int code) {
        for (ConfigSource source : values()) {
            if (source.code == code) {
                return source;
            }
        }
        return UNKNOWN;
    }
}
