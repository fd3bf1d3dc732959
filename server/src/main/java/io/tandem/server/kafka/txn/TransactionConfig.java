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
 *
 * <p>{@code partitionVerificationEnable} is {@code transaction.partition.verification.enable} as the broker was
 * started with (Kafka's default true): partition leaders ask the coordinator before a transaction version 0 producer's
 * first batch or offsets open a transaction (KIP-890 part 1). Kafka lets it change at runtime (its
 * DynamicProducerStateManagerConfig), so the value in force is {@link TransactionService#partitionVerificationEnabled},
 * read at each request.
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
        short transactionVersion,
        boolean partitionVerificationEnable,
        int addPartitionsRetryBackoffMaxMs,
        int addPartitionsRetryBackoffMs) {

    /** Kafka's key switching KIP-890 part 1's verification on and off. */
    public static final String PARTITION_VERIFICATION_ENABLE = "transaction.partition.verification.enable";

    /**
     * Kafka 4.x's keys for a transaction version 2 Produce whose implicit AddPartitionsToTxn was answered
     * CONCURRENT_TRANSACTIONS: asked again every {@code add.partitions.to.txn.retry.backoff.ms} (default 20, at least
     * 1) until {@code add.partitions.to.txn.retry.backoff.max.ms} (default 100, at least 0, at most request.timeout.ms
     * in effect) has passed. Read-only, as in Kafka.
     */
    public static final String ADD_PARTITIONS_RETRY_BACKOFF_MAX_MS = "add.partitions.to.txn.retry.backoff.max.ms";
    public static final String ADD_PARTITIONS_RETRY_BACKOFF_MS = "add.partitions.to.txn.retry.backoff.ms";
    static final int ADD_PARTITIONS_RETRY_BACKOFF_MAX_MS_DEFAULT = 100;
    static final int ADD_PARTITIONS_RETRY_BACKOFF_MS_DEFAULT = 20;

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

    /** Kafka's keys at a given initial transaction version, with the verification on (Kafka's default). */
    public TransactionConfig(int maxTimeoutMs, int stateLogPartitions, short stateLogReplicationFactor,
                             int stateLogMinIsr, int stateLogSegmentBytes, int abortTimedOutIntervalMs,
                             int transactionalIdExpirationMs, int removeExpiredIntervalMs, short transactionVersion) {
        this(maxTimeoutMs, stateLogPartitions, stateLogReplicationFactor, stateLogMinIsr, stateLogSegmentBytes,
                abortTimedOutIntervalMs, transactionalIdExpirationMs, removeExpiredIntervalMs, transactionVersion, true,
                ADD_PARTITIONS_RETRY_BACKOFF_MAX_MS_DEFAULT, ADD_PARTITIONS_RETRY_BACKOFF_MS_DEFAULT);
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
                config.getInt("transaction.remove.expired.transaction.cleanup.interval.ms", 3_600_000),
                Features.TRANSACTION_VERSION_2,
                // Kafka's BOOLEAN: true or false in any case (the start-up checks refuse anything else).
                Boolean.parseBoolean(config.get(PARTITION_VERIFICATION_ENABLE, "true").trim()),
                config.getInt(ADD_PARTITIONS_RETRY_BACKOFF_MAX_MS, ADD_PARTITIONS_RETRY_BACKOFF_MAX_MS_DEFAULT),
                config.getInt(ADD_PARTITIONS_RETRY_BACKOFF_MS, ADD_PARTITIONS_RETRY_BACKOFF_MS_DEFAULT));
    }
}
