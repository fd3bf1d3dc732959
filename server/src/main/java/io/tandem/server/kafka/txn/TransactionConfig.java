package io.tandem.server.kafka.txn;

import io.tandem.server.TandemConfig;

/**
 * The transaction coordinator's settings, Kafka's broker keys with Kafka's defaults except the state topic's
 * replication: like {@code offsets.topic.replication.factor}, Tandem defaults
 * {@code transaction.state.log.replication.factor} and {@code transaction.state.log.min.isr} to 1 so a single node
 * runs transactions out of the box (Kafka's 3 and 2 refuse to on fewer brokers).
 */
public record TransactionConfig(
        int maxTimeoutMs,
        int stateLogPartitions,
        short stateLogReplicationFactor,
        int stateLogMinIsr,
        int stateLogSegmentBytes,
        int abortTimedOutIntervalMs,
        int transactionalIdExpirationMs,
        int removeExpiredIntervalMs) {

    /** Kafka's request.timeout.ms: how long a state or marker write waits for its ISR, and a marker request. */
    public static final int REQUEST_TIMEOUT_MS = 30_000;

    public static TransactionConfig from(TandemConfig config) {
        return new TransactionConfig(
                config.getInt("transaction.max.timeout.ms", 900_000),
                config.getInt("transaction.state.log.num.partitions", 50),
                (short) config.getInt("transaction.state.log.replication.factor", 1),
                config.getInt("transaction.state.log.min.isr", 1),
                config.getInt("transaction.state.log.segment.bytes", 104_857_600),
                config.getInt("transaction.abort.timed.out.transaction.cleanup.interval.ms", 10_000),
                config.getInt("transactional.id.expiration.ms", 604_800_000),
                config.getInt("transaction.remove.expired.transaction.cleanup.interval.ms", 3_600_000));
    }
}
