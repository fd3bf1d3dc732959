package io.tandem.server.kafka.network;

import io.tandem.kafka.wire.ApiMessage;

/**
 * How a handler answers. Exactly one of the methods must be called exactly once, from any thread, whenever the
 * answer is ready (at once, or later from the purgatory or the group coordinator).
 */
public interface Responder {
    void send(ApiMessage response);

    /**
     * Sends a response whose records fields hold {@link FileRecords#placeholder}s: the slices (in the order their
     * placeholders appear in the response) go to the socket from their segment files without a copy, unless the
     * connection's pipeline must see the bytes (TLS), when they are read into buffers first.
     */
    void sendWithFileRecords(ApiMessage response, java.util.List<io.tandem.storage.log.LogSlice> slices);

    /** For requests Kafka never answers (Produce with acks=0). */
    void noResponse();

    /** The request cannot be answered (a bug or an invariant broken): the connection is closed. */
    void fail(Throwable cause);
}
