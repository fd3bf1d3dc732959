package io.tandem.kafka.client;

/** The special timestamps of a ListOffsets request; any other value asks for the first offset at or after a time. */
public final class OffsetSpec {
    /** The log end offset (the next offset to be written). */
    public static final long LATEST = -1L;
    /** The log start offset. */
    public static final long EARLIEST = -2L;

    private OffsetSpec() {
    }
}
