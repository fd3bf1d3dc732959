package io.tandem.server.kafka.quota;

import java.util.Map;

/**
 * The client quota keys of Kafka 3.9's QuotaConfigs, with the type Kafka's ConfigDef gives each: AlterClientQuotas
 * stores a LONG key as a whole number and refuses a fraction. The first three are rates over a sampled window
 * ({@link ClientQuotaManager}); {@code controller_mutation_rate} (KIP-599, a DOUBLE) is a token bucket
 * ({@link ControllerMutationQuotaManager}). The IP entity's only key, {@link #IP_CONNECTION_RATE} (KIP-612), is
 * kept apart: it belongs to no user or client id.
 */
public enum QuotaType {
    PRODUCE("producer_byte_rate", true),
    FETCH("consumer_byte_rate", true),
    REQUEST("request_percentage", false),
    CONTROLLER_MUTATION("controller_mutation_rate", false);

    /** Kafka's QuotaConfigs.IP_CONNECTION_RATE_OVERRIDE_CONFIG: new connections per second from one IP, an INT. */
    public static final String IP_CONNECTION_RATE = "connection_creation_rate";

    private final String key;
    private final boolean whole;

    QuotaType(String key, boolean whole) {
        this.key = key;
        this.whole = whole;
    }

    public String key() {
        return key;
    }

    /** A LONG key in Kafka's ConfigDef (the byte rates); request_percentage is a DOUBLE. */
    public boolean whole() {
        return whole;
    }

    private static final Map<String, QuotaType> BY_KEY = Map.of(PRODUCE.key, PRODUCE, FETCH.key, FETCH,
            REQUEST.key, REQUEST, CONTROLLER_MUTATION.key, CONTROLLER_MUTATION);

    /** The type of a quota key, or null for any other key. */
    public static QuotaType forKey(String key) {
        return key == null ? null : BY_KEY.get(key);
    }

    /** Whether Kafka's QuotaConfigs.isClientOrUserQuotaConfig counts the key (DescribeClientQuotas lists it). */
    public static boolean isQuotaConfig(String key) {
        return BY_KEY.containsKey(key);
    }
}
