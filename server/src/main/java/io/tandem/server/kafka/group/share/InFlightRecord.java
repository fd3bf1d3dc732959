package io.tandem.server.kafka.group.share;

/** One in-flight record of a {@link SharePartition}: its state, delivery count and, while acquired, its holder. */
final class InFlightRecord {
    SharePartition.State state = SharePartition.State.AVAILABLE;
    int deliveryCount;
    String memberId;
    long lockExpiryMs;
    /** What the record was before a transition not yet written, else null. */
    InFlightRecord rollback;

    InFlightRecord copy() {
        InFlightRecord c = new InFlightRecord();
        c.state = state;
        c.deliveryCount = deliveryCount;
        c.memberId = memberId;
        c.lockExpiryMs = lockExpiryMs;
        return c;
    }
}
