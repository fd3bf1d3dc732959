package io.tandem.kafka.wire;

import java.util.Map;

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
    public static final Map<String, Range> SUPPORTED = Map.of(
            TRANSACTION_VERSION, new Range(TRANSACTION_VERSION_0, TRANSACTION_VERSION_2));

    /** What a broker that does not list a feature supports of it: level 0 only (Kafka's QuorumFeatures.DISABLED). */
    public static final Range DISABLED = new Range((short) 0, (short) 0);

    private Features() {
    }

    /** Transaction version 2 bumps the producer epoch at the end of every transaction. */
    public static boolean supportsEpochBump(short transactionVersion) {
        return transactionVersion >= TRANSACTION_VERSION_2;
    }
}
