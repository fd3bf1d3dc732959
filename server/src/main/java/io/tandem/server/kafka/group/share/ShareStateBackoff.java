package io.tandem.server.kafka.group.share;

import java.util.concurrent.ThreadLocalRandom;

/**
 * The retry policy of a share-state call whose coordinator lookup or answer failed retriably, as Kafka 4.x's
 * PersisterStateManager: each handler counts its FindCoordinator attempts and its request attempts apart (two
 * ExponentialBackoffManagers, the lookup count reset by a lookup that names a coordinator), waits
 * {@code REQUEST_BACKOFF_MS * 2^attempts} (attempts counted after the failure, so the first retry waits about 2 s),
 * randomized by {@link #JITTER} and capped at {@link #BACKOFF_MAX_MS}, and gives up after {@link #ATTEMPTS_MAX}
 * failed attempts of one kind (the call's fifth failure ends it: four waits, about 30 s in all).
 *
 * <p>One instance per call; the call's retries run one after another (each from the previous one's failure), so
 * the counts need no lock beyond the happens-before of the futures chaining them.
 */
final class ShareStateBackoff {
    /** Kafka's PersisterStateManager.REQUEST_BACKOFF_MS. */
    static final long BACKOFF_MS = 1_000;
    /** Kafka's PersisterStateManager.REQUEST_BACKOFF_MAX_MS. */
    static final long BACKOFF_MAX_MS = 30_000;
    /** Kafka's PersisterStateManager.MAX_FIND_COORD_ATTEMPTS, which bounds its requests' attempts too. */
    static final int ATTEMPTS_MAX = 5;
    /** Kafka's CommonClientConfigs.RETRY_BACKOFF_EXP_BASE. */
    static final int EXP_BASE = 2;
    /** Kafka's CommonClientConfigs.RETRY_BACKOFF_JITTER. */
    static final double JITTER = 0.2;
    /** The largest exponent that still stays under the cap (ExponentialBackoff's expMax). */
    private static final double EXP_MAX = Math.log(BACKOFF_MAX_MS / (double) BACKOFF_MS) / Math.log(EXP_BASE);

    private int lookups;
    private int requests;

    /**
     * The wait after a failure, or -1 when the call has failed {@link #ATTEMPTS_MAX} times of that kind and fails.
     * {@code lookup}: FindCoordinator failed; else the share-state request (or its connection) did.
     */
    long afterFailure(boolean lookup) {
        int attempts = lookup ? ++lookups : ++requests;
        if (attempts >= ATTEMPTS_MAX) return -1;
        return backoff(attempts, ThreadLocalRandom.current().nextDouble(1 - JITTER, 1 + JITTER));
    }

    /** A lookup named the coordinator: Kafka resets its FindCoordinator attempts then. */
    void lookupSucceeded() {
        lookups = 0;
    }

    /** Kafka's ExponentialBackoff.backoff with its random factor given (within 1 +- {@link #JITTER}). */
    static long backoff(int attempts, double randomFactor) {
        double term = BACKOFF_MS * Math.pow(EXP_BASE, Math.min(attempts, EXP_MAX));
        return Math.min((long) (randomFactor * term), BACKOFF_MAX_MS);
    }
}
