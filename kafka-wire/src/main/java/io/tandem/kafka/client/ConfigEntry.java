package io.tandem.kafka.client;

/** One config of a resource as DescribeConfigs reports it; sensitive values come back as null. */
public record ConfigEntry(String name, String value, ConfigSource source, boolean readOnly, boolean sensitive) {
    /** True when the value is set on this resource itself rather than inherited from a default. */
    public boolean isOverride(ConfigResource type) {
        return type == ConfigResource.TOPIC ? source == ConfigSource.DYNAMIC_TOPIC_CONFIG
                : source == ConfigSource.DYNAMIC_BROKER_CONFIG || source == ConfigSource.STATIC_BROKER_CONFIG
                || source == ConfigSource.DYNAMIC_BROKER_LOGGER_CONFIG;
    }
}
