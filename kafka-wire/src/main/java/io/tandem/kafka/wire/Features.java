package io.tandem.kafka.wire;

import java.util.Collections;
import java.util.Map;
import java.util.TreeMap;

/**
 * Kafka's feature flags (KIP-584) as ApiVersions v3+ reports them in its tagged SupportedFeatures and
 * FinalizedFeatures fields. Only the features Tandem serves are named here; a feature that is not listed is not
 * advertised, so clients stay on the protocol they would speak to a broker without it.
 */
public final class Features {
    /**
     * {@code transaction.version} (KIP-890 part 2). Level 2 is what makes the Java 4.x producer speak transaction
     * version 2: its TransactionManager reads this finalized level (when the response's finalized-features epoch is
     * newer than the one it holds) and switches at level 2 or more.
     */
    public static final String TRANSACTION_VERSION = "transaction.version";
    /** Transactions as Kafka 3.x has them: the client adds partitions, EndTxn keeps the epoch. */
    public static final short TRANSACTION_VERSION_0 = 0;
    /** Flexible {@code __transaction_state} values (TransactionLogValue v1); the protocol is version 0's. */
    public static final short TRANSACTION_VERSION_1 = 1;
    /** Implicit AddPartitionsToTxn on produce, EndTxn v5 bumping the epoch on every commit and abort. */
    public static final short TRANSACTION_VERSION_2 = 2;

    /**
     * {@code share.version} (KIP-932 share groups). Kafka 4.4 supports 0-2 and a 4.4 storage format finalizes 2:
     * level 1 serves share groups (ShareGroupHeartbeat, ShareFetch, ... are advertised only from it), level 2 adds
     * what Kafka 4.4 gates on it. Tandem serves share groups at Kafka 4.4's versions, so it supports the same levels;
     * the Java 4.4 KafkaShareConsumer reads no feature level, only the APIs' versions.
     */
    public static final String SHARE_VERSION = "share.version";
    public static final short SHARE_VERSION_0 = 0;
    public static final short SHARE_VERSION_2 = 2;

    /** A range of feature levels, both ends included; Kafka prints it "min-max". */
    public record Range(short min, short max) {
        public boolean contains(short level) {
            return level >= min && level <= max;
        }

        @Override
        public String toString() {
            return min + "-" + max;
        }
    }

    /** The levels a Tandem broker supports, per feature: what ApiVersions and its broker registration say. */
    public static final Map<String, Range> SUPPORTED = Collections.unmodifiableMap(new TreeMap<>(Map.of(
            SHARE_VERSION, new Range(SHARE_VERSION_0, SHARE_VERSION_2),
            TRANSACTION_VERSION, new Range(TRANSACTION_VERSION_0, TRANSACTION_VERSION_2))));

    /** What a broker that does not list a feature supports of it: level 0 only (Kafka's QuorumFeatures.DISABLED). */
    public static final Range DISABLED = new Range((short) 0, (short) 0);

    private Features() {
    }

    /** Transaction version 2 bumps the producer epoch at the end of every transaction. */
    public static boolean supportsEpochBump(short transactionVersion) {
        return transactionVersion >= TRANSACTION_VERSION_2;
    }
}
