package io.tandem.server.zookeeper;

/**
 * Watches answered ZooKeeper requests for the node's metrics ({@link ZooKeeperRole#observe}). Called on the commit
 * thread for every answer, so an implementation must be cheap and must not block.
 */
@FunctionalInterface
public interface ZkRequestObserver {
    /** Observes nothing. */
    ZkRequestObserver NONE = (opCode, latencyNanos) -> { };

    /** A request of this op code (zk-wire's {@code OpCode}) was answered this long after it arrived. */
    void answered(int opCode, long latencyNanos);

    /**
     * On an ensemble's leader: one of its Zab proposals committed this long after it was proposed. Called on the Zab
     * thread (not the commit thread), with the same rules.
     */
    default void zabCommitted(long latencyNanos) {
    }
}
