package io.tandem.server.kafka.log;

import io.netty.buffer.ByteBuf;
import io.tandem.kafka.wire.record.CorruptRecordException;
import io.tandem.kafka.wire.record.RecordBatch;
import io.tandem.kafka.wire.record.RecordBatches;
import io.tandem.server.kafka.TopicPartition;
import io.tandem.server.kafka.producer.ProducerStateTable;
import io.tandem.storage.log.Log;
import io.tandem.storage.log.LogAppendInfo;
import io.tandem.storage.log.LogConfig;
import io.tandem.storage.log.LogSlice;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

import static io.tandem.server.kafka.ErrorCodes.*;

/**
 * One partition this broker leads: its log and its idempotent-producer state. Appends are serialised on the
 * partition (one writer at a time); reads go straight to the log, which needs no lock for them.
 */
public final class Partition {
    private final TopicPartition topicPartition;
    private final Log log;
    private final ProducerStateTable producers = new ProducerStateTable();
    private volatile int leaderEpoch;

    /** What a produce to this partition came to. */
    public record AppendResult(short error, String errorMessage, long baseOffset, long logAppendTimeMs,
                               long logStartOffset) {
        static AppendResult error(short error, String message, long logStartOffset) {
            return new AppendResult(error, message, -1, -1, logStartOffset);
        }
    }

    Partition(TopicPartition topicPartition, Log log, int leaderEpoch) throws IOException {
        this.topicPartition = topicPartition;
        this.log = log;
        this.leaderEpoch = leaderEpoch;
        rebuildProducerState();
        // A single replica is always fully replicated: everything in the log is committed.
        log.updateHighWatermark(log.logEndOffset());
    }

    public TopicPartition topicPartition() {
        return topicPartition;
    }

    public Log log() {
        return log;
    }

    public int leaderEpoch() {
        return leaderEpoch;
    }

    public long logStartOffset() {
        return log.logStartOffset();
    }

    public long logEndOffset() {
        return log.logEndOffset();
    }

    public long highWatermark() {
        return log.highWatermark();
    }

    /** The last stable offset: with no transactions in flight it is the high watermark. */
    public long lastStableOffset() {
        return log.highWatermark();
    }

    /** The producer state is not persisted separately: replaying the batch headers of the log rebuilds it exactly. */
    private void rebuildProducerState() throws IOException {
        long offset = log.logStartOffset();
        while (offset < log.logEndOffset()) {
            LogSlice slice = log.read(offset, 1 << 20, Long.MAX_VALUE, true);
            if (slice.isEmpty()) break;
            ByteBuf bytes = slice.readBytes(io.netty.buffer.ByteBufAllocator.DEFAULT);
            try {
                for (RecordBatch batch : RecordBatches.of(bytes)) {
                    if (batch.magic() == RecordBatch.MAGIC && batch.hasProducerId()) {
                        producers.record(batch.producerId(), batch.producerEpoch(), batch.baseSequence(),
                                batch.recordCount(), batch.baseOffset(), batch.lastOffset(), batch.maxTimestamp());
                    }
                }
            } finally {
                bytes.release();
            }
            if (slice.nextOffset() <= offset) break;
            offset = slice.nextOffset();
        }
    }

    /**
     * Validates and appends the batches of one produce request (all or nothing): CRC and framing
     * (CORRUPT_MESSAGE), batch size against max.message.bytes (MESSAGE_TOO_LARGE), the whole set against the
     * segment size (RECORD_LIST_TOO_LARGE), and idempotent sequences. A retried batch the producer state still
     * remembers is answered with its original offsets and not appended again.
     *
     * @param records         v2 batches; their base offsets are patched in place
     * @param logAppendTimeMs the broker time to stamp when the topic uses LogAppendTime, else -1
     */
    public synchronized AppendResult append(ByteBuf records, int maxMessageBytes, long logAppendTimeMs)
            throws IOException {
        List<RecordBatch> batches = new ArrayList<>();
        try {
            RecordBatches parsed = RecordBatches.of(records, Integer.MAX_VALUE);
            if (parsed.validBytes() != records.readableBytes()) {
                return AppendResult.error(CORRUPT_MESSAGE, "the record set ends with a partial batch",
                        logStartOffset());
            }
            for (RecordBatch batch : parsed) {
                if (batch.magic() != RecordBatch.MAGIC) {
                    return AppendResult.error(UNSUPPORTED_FOR_MESSAGE_FORMAT,
                            "message format v" + batch.magic() + " is not accepted by this produce path",
                            logStartOffset());
                }
                if (!batch.isValid()) {
                    return AppendResult.error(CORRUPT_MESSAGE, "record batch CRC mismatch", logStartOffset());
                }
                if (batch.sizeInBytes() > maxMessageBytes) {
                    return AppendResult.error(MESSAGE_TOO_LARGE, "batch of " + batch.sizeInBytes()
                            + " bytes is larger than max.message.bytes " + maxMessageBytes, logStartOffset());
                }
                if (batch.recordCount() <= 0 && !batch.isControl()) {
                    return AppendResult.error(INVALID_RECORD, "batch without records", logStartOffset());
                }
                batches.add(batch);
            }
        } catch (CorruptRecordException e) {
            return AppendResult.error(CORRUPT_MESSAGE, e.getMessage(), logStartOffset());
        }
        if (batches.isEmpty()) {
            return AppendResult.error(CORRUPT_MESSAGE, "empty record set", logStartOffset());
        }
        if (records.readableBytes() > log.config().segmentBytes()) {
            return AppendResult.error(RECORD_LIST_TOO_LARGE, "record set of " + records.readableBytes()
                    + " bytes is larger than segment.bytes", logStartOffset());
        }
        for (RecordBatch batch : batches) {
            if (!batch.hasProducerId()) continue;
            ProducerStateTable.Check check = producers.check(batch.producerId(), batch.producerEpoch(),
                    batch.baseSequence(), batch.recordCount());
            if (check.isDuplicate()) {
                // Kafka answers a retried batch with the offsets it got the first time, as a success.
                return new AppendResult(NONE, null, check.duplicateOf().firstOffset(),
                        logAppendTimeMs >= 0 ? check.duplicateOf().maxTimestamp() : -1, logStartOffset());
            }
            if (check.error() != NONE) {
                return AppendResult.error(check.error(), "producer " + batch.producerId() + " epoch "
                        + batch.producerEpoch() + " sequence " + batch.baseSequence() + " rejected", logStartOffset());
            }
        }
        LogAppendInfo info = log.appendAsLeader(records, leaderEpoch, logAppendTimeMs);
        // Offsets were assigned consecutively from the first one, batch by batch.
        long nextOffset = info.firstOffset();
        for (RecordBatch batch : batches) {
            long firstOffset = nextOffset;
            nextOffset += batch.lastOffsetDelta() + 1L;
            if (batch.hasProducerId()) {
                producers.record(batch.producerId(), batch.producerEpoch(), batch.baseSequence(),
                        batch.recordCount(), firstOffset, nextOffset - 1,
                        logAppendTimeMs >= 0 ? logAppendTimeMs : batch.maxTimestamp());
            }
        }
        log.updateHighWatermark(log.logEndOffset());
        return new AppendResult(NONE, null, info.firstOffset(), logAppendTimeMs >= 0 ? info.logAppendTime() : -1,
                logStartOffset());
    }

    /** Forgets idempotent producers idle for {@code expirationMs} (producer.id.expiration.ms); see ProducerStateTable. */
    public synchronized int expireProducers(long nowMs, long expirationMs) {
        return producers.expire(nowMs, expirationMs);
    }

    /** Committed data from {@code offset}: whole batches, at least one when {@code minOneBatch}. */
    public LogSlice read(long offset, int maxBytes, boolean minOneBatch) throws IOException {
        return log.read(offset, maxBytes, log.highWatermark(), minOneBatch);
    }

    public void updateConfig(LogConfig config) {
        log.updateConfig(config);
    }
}
