package io.tandem.kafka.wire;

/** The Kafka codec's limits, in one place. */
public final class KafkaWireLimits {
    /**
     * Default largest request frame a broker accepts, in bytes: Kafka's socket.request.max.bytes default (100 MiB).
     * A longer frame closes the connection before any of it is buffered, so a bad length cannot exhaust memory.
     */
    public static final int FRAME_BYTES_MAX_DEFAULT = 100 * 1024 * 1024;

    /** Bytes of the big-endian int32 length that precedes every request and response. */
    public static final int FRAME_LENGTH_BYTES = 4;

    private KafkaWireLimits() {
    }
}
