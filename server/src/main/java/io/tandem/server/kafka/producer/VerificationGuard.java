package io.tandem.server.kafka.producer;

/**
 * Proof that the transaction coordinator was asked about one producer's next transaction on one partition (Kafka's
 * VerificationGuard, KIP-890 part 1). The partition leader makes a new guard when a transactional batch arrives for a
 * producer with no transaction open there ({@link ProducerStateTable#startVerification}); the batch may be appended
 * only with the guard the partition still holds for that producer. Any transactional append or marker of the
 * producer drops it, so an answer from the coordinator that arrives after the transaction was aborted (or after a
 * new transaction began and was verified again: the ABA case) carries a guard that no longer matches, and its batch
 * is refused instead of opening a transaction nothing would ever end. Compared by identity only.
 */
public final class VerificationGuard {
    /** No verification: never matches, not even itself. */
    public static final VerificationGuard SENTINEL = new VerificationGuard();

    /** Whether {@code requested}, the guard an append brings, is this one (and neither is the sentinel). */
    public boolean verify(VerificationGuard requested) {
        return requested != SENTINEL && requested == this;
    }

    @Override
    public String toString() {
        return this == SENTINEL ? "VerificationGuard(SENTINEL)" : "VerificationGuard@" + Integer.toHexString(hashCode());
    }
}
