package io.tandem.server.kafka.replica;

import io.tandem.kafka.wire.message.FetchRequest;
import io.tandem.server.TandemConfig;
import io.tandem.server.kafka.log.Partition;

/**
 * What a follower's fetcher puts in each Fetch and how it paces itself, read from Kafka 3.9's keys as its
 * ReplicaFetcherThread (RemoteLeaderEndPoint) reads them: {@code replica.fetch.wait.max.ms} is the Fetch's maxWaitMs
 * (how long the leader may park it in its fetch purgatory while there is nothing new), {@code replica.fetch.min.bytes}
 * its minBytes (how much news answers it before the wait ends), {@code replica.fetch.response.max.bytes} its maxBytes
 * (the whole answer) and {@code replica.fetch.max.bytes} each partition's partitionMaxBytes; {@code
 * replica.fetch.backoff.ms} is how long a partition in error, or a failed fetch, waits. Values are checked by
 * BrokerConfigPolicy before this reads them.
 */
public record ReplicaFetcherConfig(int partitionBytesMax, int waitMaxMs, int minBytes, int responseBytesMax,
                                   int backoffMs) {
    /** Kafka's replica.fetch.wait.max.ms default. */
    public static final int WAIT_MAX_MS_DEFAULT = 500;
    /** Kafka's replica.fetch.backoff.ms default. */
    public static final int BACKOFF_MS_DEFAULT = 1_000;
    /** Kafka's replica.fetch.max.bytes default. */
    public static final int PARTITION_BYTES_MAX_DEFAULT = 1_048_576;
    /** Kafka's replica.fetch.response.max.bytes default. */
    public static final int RESPONSE_BYTES_MAX_DEFAULT = 10 * 1024 * 1024;
    /** Kafka's replica.fetch.min.bytes default. */
    public static final int MIN_BYTES_DEFAULT = 1;

    /** Kafka's defaults of the five keys. */
    public static final ReplicaFetcherConfig KAFKA_DEFAULTS = new ReplicaFetcherConfig(PARTITION_BYTES_MAX_DEFAULT,
            WAIT_MAX_MS_DEFAULT, MIN_BYTES_DEFAULT, RESPONSE_BYTES_MAX_DEFAULT, BACKOFF_MS_DEFAULT);

    public static ReplicaFetcherConfig from(TandemConfig config) {
        return new ReplicaFetcherConfig(
                config.getInt("replica.fetch.max.bytes", PARTITION_BYTES_MAX_DEFAULT),
                config.getInt("replica.fetch.wait.max.ms", WAIT_MAX_MS_DEFAULT),
                config.getInt("replica.fetch.min.bytes", MIN_BYTES_DEFAULT),
                config.getInt("replica.fetch.response.max.bytes", RESPONSE_BYTES_MAX_DEFAULT),
                config.getInt("replica.fetch.backoff.ms", BACKOFF_MS_DEFAULT));
    }

    /** A followed partition's fetch state as these settings ask for it: at most partitionMaxBytes of its records. */
    public FetchSessionHandler.PartitionState state(Partition p) {
        return FollowerFetch.state(p, partitionBytesMax);
    }

    /**
     * The Fetch carrying one fetch of a follower's session, with these settings' maxWaitMs, minBytes and maxBytes:
     * what ReplicaFetcher sends, and what the replication simulation's follower sends through the same settings.
     */
    public FetchRequest request(int localBrokerId, FetchSessionHandler.Fetch fetch) {
        return FollowerFetch.request(localBrokerId, fetch, waitMaxMs, minBytes, responseBytesMax);
    }

    /** These settings with partitionMaxBytes {@code bytes} and the backoff {@code ms}, the others Kafka's defaults. */
    static ReplicaFetcherConfig of(int partitionBytesMax, int backoffMs) {
        return new ReplicaFetcherConfig(partitionBytesMax, WAIT_MAX_MS_DEFAULT, MIN_BYTES_DEFAULT,
                RESPONSE_BYTES_MAX_DEFAULT, backoffMs);
    }
}
