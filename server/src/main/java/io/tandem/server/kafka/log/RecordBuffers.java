package io.tandem.server.kafka.log;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;

/**
 * The buffers the broker builds record batches in before it appends them to a partition itself: the group,
 * transaction and share coordinators' records, transaction markers, and produce batches it converts or recompresses.
 * <p>
 * They are direct buffers of the default allocator, the kind the event loops read request frames into, so a client's
 * batches and the broker's own meet the produce path's code (validation, the append, the segment write) as one buffer
 * type. With heap buffers here, a consumer group's first SyncGroup or offset commit reached that code, compiled by C2
 * for direct buffers only, with a receiver type it had never seen: C2 threw away the compiled produce path
 * (Partition.appendValidated, LogSegment.append and their callees, seconds of compiler work) and compiled it again,
 * on a node whose clients share its cores (docs/profiles/kafka-consume.md, "The first consume recompiles the produce
 * path").
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
