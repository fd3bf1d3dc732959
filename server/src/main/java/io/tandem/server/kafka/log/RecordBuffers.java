package io.tandem.server.kafka.log;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;

/**
 * The buffers the broker builds record batches in before it appends them to a partition itself: the group,
 * transaction and share coordinators' records, transaction markers, and produce batches it converts or recompresses.
 * <p>
 * They are direct buffers of the default allocator, the kind the event loops read request frames into. Netty's
 * adaptive allocator gives heap and direct buffers one class whose accessors call into a heap or a direct root buffer:
 * with heap buffers here, a consumer group's first SyncGroup or offset commit reached the produce path's code
 * (validation, the append, the segment write), compiled by C2 for direct roots only, and trapped in those accessors,
 * throwing the compiled code away. What is still different: a client's batches arrive as a slice of the request frame,
 * these as a whole buffer, and C2 still traps on that receiver type at the same places (docs/profiles/
 * kafka-consume.md, "The first consume recompiles the produce path").
 */
public final class RecordBuffers {
    private RecordBuffers() {
    }

    /** A new buffer for records to append, of the allocator's default initial size; the caller releases it. */
    public static ByteBuf allocate() {
        return ByteBufAllocator.DEFAULT.directBuffer();
    }

    /** A new buffer for records to append, of {@code initialCapacity} bytes to start with; the caller releases it. */
    public static ByteBuf allocate(int initialCapacity) {
        return ByteBufAllocator.DEFAULT.directBuffer(initialCapacity);
    }
}
