package io.tandem.server.kafka.quota;

/**
 * Kafka's {@code quota.window.num} (11) samples of {@code quota.window.size.seconds} (1) each: the window client
 * quotas are measured over. Kafka's ConfigDef wants both at least 1.
 */
public record QuotaWindow(int samples, long sizeMs) {
    public static final String SAMPLES_KEY = "quota.window.num";
    public static final String SIZE_SECONDS_KEY = "quota.window.size.seconds";
    public static final QuotaWindow DEFAULT = new QuotaWindow(11, 1000);

    public QuotaWindow {
        if (samples < 1) throw new IllegalArgumentException(SAMPLES_KEY + " must be at least 1");
        if (sizeMs < 1000) throw new IllegalArgumentException(SIZE_SECONDS_KEY + " must be at least 1");
    }
}
