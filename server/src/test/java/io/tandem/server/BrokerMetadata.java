package io.tandem.server;

import io.tandem.server.kafka.metadata.MetadataCache;

/**
 * A running broker's metadata cache for tests outside this package ({@link Tandem#kafkaBroker()} is package-private):
 * what the broker answers clients from, read directly as Kafka's own tests read {@code broker.metadataCache}, whatever
 * listeners and security the broker has.
 */
public final class BrokerMetadata {
    private BrokerMetadata() {
    }

    /** The broker's cache as one consistent view (topics, live brokers, controller). */
    public static MetadataCache.Snapshot of(Tandem broker) {
        return broker.kafkaBroker().metadata().snapshot();
    }
}
