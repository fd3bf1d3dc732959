package io.tandem.server.kafka.txn;

import io.tandem.server.kafka.log.Partition;

import java.util.function.Consumer;

/** How the transaction state manager reaches {@code __transaction_state} on this broker. */
public interface TransactionStateLog {
    /** The partition with this index if this broker leads it right now, else null. */
    Partition ledPartition(int index);

    /**
     * Calls {@code then} with NONE once the partition's high watermark reaches {@code requiredOffset}, or with the
     * error that stopped it (NOT_LEADER_OR_FOLLOWER, REQUEST_TIMED_OUT). Runs on whichever thread completes it.
     */
    void whenReplicated(Partition partition, long requiredOffset, long timeoutMs, Consumer<Short> then);

    /** The topic's partition count, or -1 while the topic does not exist. */
    int partitionCount();
}
