package io.tandem.server.kafka.quota;

import java.util.Map;

/**
 * The client quota keys of Kafka 3.9's QuotaConfigs, with the type Kafka's ConfigDef gives each: AlterClientQuotas
 * stores a LONG key as a whole number and refuses a fraction. {@code controller_mutation_rate} (KIP-599) is a Kafka
 * key Tandem does not enforce, so AlterClientQuotas refuses it rather than storing and ignoring it.
 */
public enum QuotaType {
    PRODUCE("producer_byte_rate", true),
    FETCH("consumer_byte_rate", true),
    REQUEST("request_percentage", false);

    /** Kafka's key that Tandem refuses (see the class comment). */
    public static final String CONTROLLER_MUTATION_RATE = "controller_mutation_rate";

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
            REQUEST.key, REQUEST);

    /** The type of a quota key, or null for any other key. */
    public static QuotaType forKey(String key) {
        return key == null ? null : BY_KEY.get(key);
    }

    /** Whether Kafka's QuotaConfigs.isQuotaConfig counts the key as a client quota (DescribeClientQuotas lists it). */
    public static boolean isQuotaConfig(String key) {
        return BY_KEY.containsKey(key) || CONTROLLER_MUTATION_RATE.equals(key);
    }
}
