package io.tandem.server.kafka.replica;

import io.tandem.server.TandemConfig;

/**
 * Kafka 3.9's controlled shutdown keys, as its ZooKeeper-mode broker reads them: whether a stopping broker first asks
 * the controller to move its leaderships away ({@code controlled.shutdown.enable}), how many times it asks
 * ({@code controlled.shutdown.max.retries}; 0 asks never) while the controller's answer still lists partitions it
 * leads or the request fails, and how long it waits between two tries ({@code controlled.shutdown.retry.backoff.ms}).
 * After the last try it stops anyway, as Kafka's "unclean shutdown".
 */
public record ControlledShutdownConfig(boolean enabled, int maxRetries, long retryBackoffMs) {
    /** Kafka's defaults: enabled, 3 tries, 5 s apart. */
    public static final ControlledShutdownConfig DEFAULT = new ControlledShutdownConfig(true, 3, 5_000);

    public static ControlledShutdownConfig from(TandemConfig config) {
        return new ControlledShutdownConfig(
                Boolean.parseBoolean(config.get("controlled.shutdown.enable", "true").trim()),
                config.getInt("controlled.shutdown.max.retries", DEFAULT.maxRetries()),
                // Kafka has no validator here; a negative backoff makes its Thread.sleep throw, so it stops at once.
                Math.max(0, config.getLong("controlled.shutdown.retry.backoff.ms", DEFAULT.retryBackoffMs())));
    }
}
