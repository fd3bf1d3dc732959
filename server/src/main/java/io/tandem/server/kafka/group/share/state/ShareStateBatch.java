package io.tandem.server.kafka.group.share.state;

/**
 * One persisted run of a share-partition's records (Kafka's PersisterStateBatch): offsets {@code firstOffset} to
 * {@code lastOffset} in one delivery state (0 AVAILABLE, 2 ACKNOWLEDGED, 4 ARCHIVED; an acquired record is stored as
 * AVAILABLE, since its lock does not outlive the broker) with one delivery count.
 */
public record ShareStateBatch(long firstOffset, long lastOffset, byte deliveryState, short deliveryCount) {
    public static final byte AVAILABLE = 0;
    public static final byte ACKNOWLEDGED = 2;
    public static final byte ARCHIVED = 4;

    public ShareStateBatch {
        if (lastOffset < firstOffset) {
            throw new IllegalArgumentException("state batch " + firstOffset + "-" + lastOffset + " is empty");
        }
    }

    boolean sameStateAs(ShareStateBatch other) {
        return deliveryState == other.deliveryState && deliveryCount == other.deliveryCount;
    }
}
