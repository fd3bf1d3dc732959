package io.tandem.storage.log;

import io.netty.buffer.ByteBuf;
import io.tandem.kafka.wire.record.CorruptRecordException;
import io.tandem.kafka.wire.record.RecordBatch;
import io.tandem.kafka.wire.record.RecordBatches;
import io.tandem.kafka.wire.record.TimestampType;

/**
 * The batches of one append, checked and (for a leader) stamped in place before they are written: the framing, the
 * CRC unless the caller verified it, offsets assigned from the log end (leader) or at or after it (follower), the
 * leader epoch, and LogAppendTime when the topic asks for it (which rewrites the CRC).
 */
record AppendScan(long firstOffset, long nextOffset, long maxTimestamp, int batches, long recordCount) {

    /**
     * @throws CorruptRecordException if a batch is malformed, a follower batch starts below {@code logEndOffset},
     *                                or the bytes end with a partial batch
     */
    static AppendScan prepare(ByteBuf records, long logEndOffset, boolean assignOffsets, boolean checkCrc,
                              int leaderEpoch, long logAppendTimeMs) {
        int bytes = records.readableBytes();
        long next = logEndOffset;
        long firstOffset = -1;
        long maxTimestamp = RecordBatch.NO_TIMESTAMP;
        int batches = 0;
        int consumed = 0;
        long recordCount = 0;
        for (RecordBatch batch : RecordBatches.of(records)) {
            if (checkCrc) {
                batch.ensureValid();
            }
            if (batch.lastOffsetDelta() < 0) {
                throw new CorruptRecordException("batch has negative last offset delta " + batch.lastOffsetDelta());
            }
            if (assignOffsets) {
                batch.setBaseOffset(next);
                batch.setPartitionLeaderEpoch(leaderEpoch);
                if (logAppendTimeMs != -1) {
                    batch.setMaxTimestamp(TimestampType.LOG_APPEND_TIME, logAppendTimeMs);
                }
            } else if (batch.baseOffset() < next) {
                throw new CorruptRecordException("follower batch at offset " + batch.baseOffset()
                        + " is below the expected offset " + next);
            }
            if (firstOffset < 0) {
                firstOffset = batch.baseOffset();
            }
            maxTimestamp = Math.max(maxTimestamp, batch.maxTimestamp());
            next = batch.nextOffset();
            consumed += batch.sizeInBytes();
            recordCount += batch.recordCount();
            batches++;
        }
        if (consumed != bytes) {
            throw new CorruptRecordException("append ends with a partial batch: " + (bytes - consumed)
                    + " trailing bytes");
        }
        return new AppendScan(firstOffset, next, maxTimestamp, batches, recordCount);
    }
}
