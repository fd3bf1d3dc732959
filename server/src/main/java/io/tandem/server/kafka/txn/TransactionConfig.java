package io.tandem.server.kafka.txn;

import io.tandem.kafka.wire.Features;
import io.tandem.server.TandemConfig;

/**
 * The transaction coordinator's settings, Kafka's broker keys with Kafka's defaults except the state topic's
 * replication: like {@code offsets.topic.replication.factor}, Tandem defaults
 * {@code transaction.state.log.replication.factor} and {@code transaction.state.log.min.isr} to 1 so a single node
 * runs transactions out of the box (Kafka's 3 and 2 refuse to on fewer brokers).
 *
 * <p>{@code transactionVersion} is the {@code transaction.version} feature level a new cluster is finalized at: 2,
 * what a Kafka 4.x cluster is formatted with, so Java 4.x producers speak transaction version 2 while older clients
 * (and every client that does not read the feature) keep version 0's protocol, which stays served. It is not a
 * configuration key: as in Kafka, the cluster's level is changed with UpdateFeatures ({@link FinalizedFeatures});
 * tests pin a lower initial level through the canonical constructor.
 */
public record TransactionConfig(
        int maxTimeoutMs,
        int stateLogPartitions,
        short stateLogReplicationFactor,
        int stateLogMinIsr,
        int stateLogSegmentBytes,
        int abortTimedOutIntervalMs,
        int transactionalIdExpirationMs,
        int removeExpiredIntervalMs,
        short transactionVersion) {

    /** Kafka's request.timeout.ms: how long a state or marker write waits for its ISR, and a marker request. */
    public static final int REQUEST_TIMEOUT_MS = 30_000;

    /** Kafka's keys at the latest transaction version. */
    public TransactionConfig(int maxTimeoutMs, int stateLogPartitions, short stateLogReplicationFactor,
                             int stateLogMinIsr, int stateLogSegmentBytes, int abortTimedOutIntervalMs,
                             int transactionalIdExpirationMs, int removeExpiredIntervalMs) {
        this(maxTimeoutMs, stateLogPartitions, stateLogReplicationFactor, stateLogMinIsr, stateLogSegmentBytes,
                abortTimedOutIntervalMs, transactionalIdExpirationMs, removeExpiredIntervalMs,
                Features.TRANSACTION_VERSION_2);
    }

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
