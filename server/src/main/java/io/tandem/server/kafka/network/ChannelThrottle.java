package io.tandem.server.kafka.network;

/**
 * Throttles the connection a request came on, as Kafka's quota managers do (KIP-219): the answer still goes out at
 * once, carrying the throttle time, and the connection is then not read until that time has passed since the
 * throttle began, so a client that ignores the throttle time is held back all the same.
 */
public interface ChannelThrottle {
    /** Throttles nothing (requests not read from a connection). */
    ChannelThrottle NONE = (throttleTimeMs, owner) -> {
    };

    /**
     * Mutes the connection for {@code throttleTimeMs} from now once the answer is out; the longest throttle wins, and
     * its {@code owner} (null: none) is told when the answer goes out.
     */
    void throttle(int throttleTimeMs, Owner owner);

    /**
     * The quota a throttle comes from. A request over two quotas (bytes and request time) is throttled by the longer
     * only, and as in Kafka (KafkaApis hands the answer to that quota manager's throttle()) only that quota records
     * the throttle: its throttle-time and its delay queue.
     */
    interface Owner {
        /** The answer went out throttled for {@code throttleTimeMs} by this quota. */
        void throttled(int throttleTimeMs);
    }
}
