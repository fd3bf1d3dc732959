package io.tandem.server.kafka.log;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;

/**
 * The buffers the broker builds record batches in before it appends them to a partition itself: the group,
 * transaction and share coordinators' records, transaction markers, and produce batches it converts or recompresses.
 * <p>
 * They are direct buffers of the default allocator, the kind the event loops read request frames into, and are handed
 * to the append as a slice ({@link #asAppended}), the kind a client's batches arrive in (the records field of a decoded
 * request is a slice of its frame). The produce path's code (validation, the append, the segment write) then meets
 * one buffer type, whoever appends. Netty's adaptive allocator gives heap and direct buffers one class whose accessors
 * call into a heap or a direct root, and a slice is another class again: with whole heap buffers here, a consumer
 * group's first SyncGroup, its offset commits and its LeaveGroup each reached that code, compiled by C2 for slices of
 * direct buffers only, with receiver types it had never seen, and C2 threw the compiled produce path away four times
 * (docs/profiles/kafka-consume.md, "The first consume recompiles the produce path").
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

    /** {@code built}'s readable bytes as the append takes them: a slice, as a client's batches come; not retained. */
    public static ByteBuf asAppended(ByteBuf built) {
        return built.slice();
    }
}
