package io.tandem.kafka.wire;

/** FindCoordinator's KeyType values: which kind of coordinator the key names. */
public final class CoordinatorTypes {
    /** A consumer (classic, consumer or share) group id. */
    public static final byte GROUP = 0;
    /** A transactional id. */
    public static final byte TRANSACTION = 1;
    /** A share-partition key {@code group:topicId:partition}, whose share coordinator a broker looks up (KIP-932). */
    public static final byte SHARE = 2;

    private CoordinatorTypes() {
    }
}
