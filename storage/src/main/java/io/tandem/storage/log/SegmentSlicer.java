package io.tandem.storage.log;

import io.tandem.kafka.wire.record.RecordBatch;
import io.tandem.storage.log.LogSegment.BatchPosition;
import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * Cuts a fetch's slice out of one {@link LogSegment}: whole batches from the one holding the fetch offset, bounded
 * by bytes and by an offset (the high watermark or the log end), found with as few header reads as the offset index
 * allows. Takes no lock: it looks only at bytes below the segment's published size.
 */
final class SegmentSlicer {
    private SegmentSlicer() {
    }

    /**
     * Whole batches from the one holding {@code startOffset}, stopping before any batch starting at or after
     * {@code maxOffsetExclusive} and at {@code maxBytes}, but always including the first batch when
     * {@code minOneBatch}. Null when no batch here reaches {@code startOffset}.
     */
    static LogSlice read(LogSegment segment, long startOffset, int maxBytes, long maxOffsetExclusive,
                         boolean minOneBatch) throws IOException {
        int limit = segment.size();
        BatchPosition first = segment.translateOffset(startOffset);
        if (first == null) {
            return null;
        }
        if (first.baseOffset() >= maxOffsetExclusive || first.size() > maxBytes && !minOneBatch) {
            return new LogSlice(segment.channel(), segment.logFile(), first.position(), 0, first.baseOffset(),
                    first.baseOffset());
        }
        int length = first.size();
        long next = first.lastOffset() + 1;
        int position = first.position() + first.size();
        ByteBuffer scratch = ByteBuffer.allocate(RecordBatch.HEADER_BYTES);
        if (length <= maxBytes) {
            // The offset index vouches for the batches before an indexed one: all of them are whole and below its
            // offset, so a long read (a consumer's 1 MiB of 16 KiB batches) reads two headers instead of sixty-four.
            BatchPosition jump = lastIndexedBatchWithin(segment, position, first.position() + (long) maxBytes,
                    limit, maxOffsetExclusive, scratch);
            if (jump != null) {
                length = jump.position() + jump.size() - first.position();
                next = jump.lastOffset() + 1;
                position = jump.position() + jump.size();
            }
        }
        while (position < limit) {
            BatchPosition batch = segment.headerAt(position, limit, scratch);
            if (batch == null || batch.baseOffset() >= maxOffsetExclusive || (long) length + batch.size() > maxBytes) {
                break;
            }
            length += batch.size();
            next = batch.lastOffset() + 1;
            position += batch.size();
        }
        return new LogSlice(segment.channel(), segment.logFile(), first.position(), length, first.baseOffset(), next);
    }

    /**
     * The last indexed batch that starts at or after {@code from}, ends at or before {@code end}, lies below the
     * segment size {@code limit} as read by the caller and has a last offset below {@code maxOffsetExclusive}; null
     * when none does. The size was raised only after whole batches were written and entries are published after it,
     * so a batch an entry points at below the limit is complete. An entry's batch may end past {@code end}: then the
     * batch before it, which ends where it starts, is the answer, found from the entry before.
     */
    private static BatchPosition lastIndexedBatchWithin(LogSegment segment, int from, long end, int limit,
            long maxOffsetExclusive, ByteBuffer scratch) throws IOException {
        OffsetIndex offsetIndex = segment.offsetIndex();
        int n = offsetIndex.lastEntryWithin(Math.min(end - RecordBatch.HEADER_BYTES, limit - 1L), maxOffsetExclusive);
        if (n < 0 || offsetIndex.positionAt(n) < from) return null;
        BatchPosition candidate = segment.headerAt(offsetIndex.positionAt(n), limit, scratch);
        if (candidate != null && candidate.position() + (long) candidate.size() <= end) return candidate;
        if (n == 0 || offsetIndex.positionAt(n - 1) < from) return null;
        candidate = segment.headerAt(offsetIndex.positionAt(n - 1), limit, scratch);
        return candidate != null && candidate.position() + (long) candidate.size() <= end ? candidate : null;
    }
}
