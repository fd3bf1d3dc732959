package io.tandem.server.kafka.network;

/**
 * Throttles the connection a request came on, as Kafka's quota managers do (KIP-219): the answer still goes out at
 * once, carrying the throttle time, and the connection is then not read until that time has passed since the
 * throttle began, so a client that ignores the throttle time is held back all the same.
 */
public interface ChannelThrottle {
    /** Throttles nothing (requests not read from a connection). */
    ChannelThrottle NONE = throttleTimeMs -> {
    };

    /** Mutes the connection for {@code throttleTimeMs} from now once the answer is out; the longest throttle wins. */
    void throttle(int throttleTimeMs);
}
