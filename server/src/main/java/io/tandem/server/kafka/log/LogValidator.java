package io.tandem.server.kafka.log;

import io.netty.buffer.ByteBuf;
import io.tandem.kafka.wire.Errors;
import io.tandem.kafka.wire.compress.CompressionType;
import io.tandem.kafka.wire.record.CorruptRecordException;
import io.tandem.kafka.wire.record.InvalidRecordException;
import io.tandem.kafka.wire.record.LegacyMessage;
import io.tandem.kafka.wire.record.LegacyMessageSets;
import io.tandem.kafka.wire.record.RecordBatch;
import io.tandem.kafka.wire.record.RecordBatches;
import io.tandem.kafka.wire.record.RecordIterator;
import io.tandem.kafka.wire.record.TimestampType;
import io.tandem.server.kafka.TopicConfigs;
import io.tandem.server.kafka.TopicPartition;

import java.util.ArrayList;
import java.util.List;

import static io.tandem.server.kafka.ErrorCodes.*;

/**
 * What a produce's records must satisfy before they are appended, checked as Apache Kafka checks them: the per-batch
 * checks of {@code UnifiedLog.analyzeAndValidateRecords} (framing, size, CRC) and then those of its
 * {@code LogValidator} (storage/.../internals/log/LogValidator.java, the same in 3.9 and 4.x), in that order, with
 * Kafka's error codes. Valid records come back ready for the log: appended in place (the log patches offsets and
 * epochs), or converted first (legacy message sets up-converted, batches recompressed for the topic's
 * compression.type) once they have been validated, so a conversion never hides a bad batch.
 *
 * <p>Kafka sends an error message only with per-record refusals (its RecordValidationException: INVALID_TIMESTAMP,
 * or INVALID_RECORD for a keyless record on a compacted topic), together with the record errors (batch index and
 * message) that Produce v8+ carries; every other refusal goes out with a null message, as here, and the reason is
 * logged instead.
 *
 * <p>Each v2 batch's CRC32C is computed once on the produce path, here; the log trusts this check
 * ({@code Log.appendValidatedAsLeader}) and keeps its own for follower appends and recovery.
 *
 * <p>One instance holds one topic's rules at one moment; {@link #validate} may be called on any thread.
 */
public final class LogValidator {
    private static final System.Logger LOG = System.getLogger(LogValidator.class.getName());

    /** Who is appending (Kafka's AppendOrigin): only clients get the client checks. */
    public enum Origin { CLIENT, COORDINATOR }

    /** One refused record: its index in its batch and Kafka's message for it. */
    public record RecordError(int batchIndex, String message) {
        /** Kafka's {@code ProduceResponse.RecordError} wording, which its summary message lists. */
        @Override
        public String toString() {
            return "RecordError(batchIndex=" + batchIndex + ", message=" + (message == null ? "null" : "'" + message
                    + "'") + ")";
        }
    }

    /** The outcome of {@link #validate}. */
    public sealed interface Result permits Valid, Invalid {
    }

    /** Records to append: the produced buffer itself, or a converted copy that {@link #release()} frees. */
    public record Valid(ByteBuf records, boolean converted) implements Result {
        public void release() {
            if (converted) records.release();
        }
    }

    /**
     * A refusal: Kafka's error code, the message Kafka sends with it (null unless records were refused one by one),
     * the record errors, whether Kafka's answer carries the partition's log start offset (it leaves -1 for the
     * refusals it expects of a log, CORRUPT_MESSAGE and MESSAGE_TOO_LARGE, and for those its request parsing makes
     * before the log is reached), and the reason for the broker's log.
     */
    public record Invalid(short error, String errorMessage, List<RecordError> recordErrors,
                          boolean reportsLogStartOffset, String reason) implements Result {
    }

    private final Origin origin;
    private final int maxMessageBytes;
    /** The topic's codec, or null for compression.type=producer. */
    private final CompressionType targetCompression;
    private final TimestampType timestampType;
    private final long timestampBeforeMaxMs;
    private final long timestampAfterMaxMs;
    private final boolean compacted;
    private final long nowMs;

    public LogValidator(Origin origin, int maxMessageBytes, CompressionType targetCompression,
                        TimestampType timestampType, long timestampBeforeMaxMs, long timestampAfterMaxMs,
                        boolean compacted, long nowMs) {
        if (timestampType == TimestampType.NO_TIMESTAMP_TYPE) {
            throw new IllegalArgumentException("a topic's timestamps are CreateTime or LogAppendTime");
        }
        this.origin = origin;
        this.maxMessageBytes = maxMessageBytes;
        this.targetCompression = targetCompression;
        this.timestampType = timestampType;
        this.timestampBeforeMaxMs = timestampBeforeMaxMs;
        this.timestampAfterMaxMs = timestampAfterMaxMs;
        this.compacted = compacted;
        this.nowMs = nowMs;
    }

    /** The rules a client's produce at {@code nowMs} meets on a topic with these (already parsed) settings. */
    public static LogValidator forClients(TopicConfigs.ProduceSettings settings, long nowMs) {
        return new LogValidator(Origin.CLIENT, settings.maxMessageBytes(),
                RecordConversions.topicCompression(settings.compressionType()),
                settings.logAppendTime() ? TimestampType.LOG_APPEND_TIME : TimestampType.CREATE_TIME,
                settings.timestampBeforeMaxMs(), settings.timestampAfterMaxMs(), settings.compacted(), nowMs);
    }

    /**
     * A coordinator's own records (group offsets, transaction markers): the broker built them, so no client checks
     * (control batches are its to write), no size or timestamp limits, kept as built.
     */
    public static LogValidator forCoordinator(long nowMs) {
        return new LogValidator(Origin.COORDINATOR, Integer.MAX_VALUE, null, TimestampType.CREATE_TIME,
                Long.MAX_VALUE, Long.MAX_VALUE, false, nowMs);
    }

    /** Who the records come from: a client's produce or the broker's own coordinators. */
    public Origin origin() {
        return origin;
    }

    /** The broker time a LogAppendTime topic stamps on the batch, or -1 when the producer's timestamps stay. */
    public long logAppendTimeMs() {
        return timestampType == TimestampType.LOG_APPEND_TIME ? nowMs : RecordBatch.NO_TIMESTAMP;
    }

    /**
     * Validates the records of one produce to {@code partition}. A valid v2 batch may be patched in place (Kafka
     * corrects a max timestamp that does not match the records); otherwise {@code records} is left as it came.
     */
    public Result validate(ByteBuf records, TopicPartition partition) {
        Result result;
        try {
            byte magic = RecordBatches.firstMagic(records);
            result = magic >= 0 && magic < RecordBatch.MAGIC ? validateLegacy(records, partition)
                    : validateBatches(records, partition);
        } catch (InvalidRecordException e) {
            // Kafka's record readers throw its InvalidRecordException for a record that does not parse.
            result = invalid(INVALID_RECORD, e.getMessage());
        } catch (CorruptRecordException e) {
            // Framing Kafka's batch reader refuses, or a legacy message set that fails its checks.
            result = invalid(CORRUPT_MESSAGE, e.getMessage());
        }
        if (result instanceof Invalid refused) {
            LOG.log(System.Logger.Level.INFO, "Produce to " + partition + " refused with "
                    + Errors.forCode(refused.error()) + ": " + refused.reason());
        }
        return result;
    }

    private Result validateBatches(ByteBuf records, TopicPartition partition) {
        // Every batch's framing is read (a bad one refuses the append); only the first is kept, a second refuses.
        RecordBatch batch = null;
        int batchCount = 0;
        int validBytes = 0;
        for (RecordBatch each : RecordBatches.of(records)) {
            if (batchCount++ == 0) batch = each;
            validBytes += each.sizeInBytes();
        }
        // Kafka refuses no batch or more than one v2 batch per partition while parsing a Produce v3+ request
        // (ProduceRequest.validateRecords), before it looks further into any of them; LogValidator repeats the
        // check for every origin.
        if (batch == null) {
            return new Invalid(INVALID_RECORD, null, List.of(), false, "Record batch has no batches at all");
        }
        if (batchCount > 1) {
            return new Invalid(INVALID_RECORD, null, List.of(), false,
                    "Compressed outer record has more than one batch");
        }
        if (batch.sizeInBytes() > maxMessageBytes) {
            return invalid(MESSAGE_TOO_LARGE, "The record batch size in the append to " + partition + " is "
                    + batch.sizeInBytes() + " bytes which exceeds the maximum configured value of " + maxMessageBytes
                    + ").");
        }
        // The one CRC computation of the produce path.
        if (!batch.hasValidCrc()) {
            return invalid(CORRUPT_MESSAGE, "Record is corrupt (stored crc = " + batch.crc() + ") in topic partition "
                    + partition + ".");
        }
        if (origin == Origin.CLIENT) {
            String refusal = clientBatchRefusal(batch, partition);
            if (refusal != null) return invalid(INVALID_RECORD, refusal);
        }
        Result recordResult = validateRecords(batch, partition, true, batch.timestampType());
        if (recordResult != null) return recordResult;
        // Bytes after the last whole batch (a partial one) are dropped silently, as Kafka's trimInvalidBytes does.
        ByteBuf valid = validBytes == records.readableBytes() ? records
                : records.slice(records.readerIndex(), validBytes);
        return convert(valid, partition);
    }

    /**
     * Kafka's client-only batch checks (LogValidator.validateBatch for AppendOrigin.CLIENT), with its words: the
     * header's offset range and record count agree, no control batch, no producer id without a sequence.
     */
    private static String clientBatchRefusal(RecordBatch batch, TopicPartition partition) {
        long countFromOffsets = (long) batch.lastOffsetDelta() + 1;
        if (countFromOffsets <= 0) {
            return "Batch has an invalid offset range: [" + batch.baseOffset() + ", " + batch.lastOffset()
                    + "] in topic partition " + partition;
        }
        int count = batch.recordCount();
        if (count <= 0) {
            return "Invalid reported count for record batch: " + count + " in topic partition " + partition;
        }
        if (countFromOffsets != count) {
            return "Inconsistent batch offset range [" + batch.baseOffset() + ", " + batch.lastOffset()
                    + "] and count of records " + count + " in topic partition " + partition;
        }
        if (batch.isControl()) {
            return "Clients are not allowed to write control records in topic partition " + partition;
        }
        if (batch.hasProducerId() && batch.baseSequence() < 0) {
            return "Invalid sequence number " + batch.baseSequence() + " in record batch with producerId "
                    + batch.producerId() + " in topic partition " + partition;
        }
        return null;
    }

    /**
     * Reads every record (Kafka's LogValidator does, decompressing if need be): a record that does not parse refuses
     * the batch at once (INVALID_RECORD); a keyless record on a compacted topic or a timestamp out of bounds is a
     * record error, collected over the whole batch. When {@code fixMaxTimestamp}, a CreateTime batch whose header
     * disagrees with its records gets the records' maximum, as Kafka's in-place path sets it. Returns the refusal,
     * or null.
     */
    private Result validateRecords(RecordBatch batch, TopicPartition partition, boolean fixMaxTimestamp,
                                   TimestampType producedType) {
        // Walked in place over the batch's bytes (RecordIterator.advance): no object per record; the record errors'
        // list and a record's object for its message exist only once a record is refused.
        List<RecordError> errors = null;
        boolean timestampErrors = false;
        long maxTimestamp = RecordBatch.NO_TIMESTAMP;
        try (RecordIterator it = batch.records()) {
            int batchIndex = 0;
            while (it.advance()) {
                String error;
                if (compacted && !it.hasKey()) {
                    error = "Compacted topic cannot accept message without key in topic partition " + partition;
                } else {
                    error = timestampError(producedType, it);
                    if (error != null) timestampErrors = true;
                }
                if (error != null) {
                    if (errors == null) errors = new ArrayList<>(1);
                    errors.add(new RecordError(batchIndex, error));
                }
                maxTimestamp = Math.max(maxTimestamp, it.timestamp());
                batchIndex++;
            }
        } catch (InvalidRecordException e) {
            throw e;
        } catch (CorruptRecordException e) {
            // An unknown codec or a records section that does not decompress: Kafka's readers throw a plain
            // KafkaException (or IllegalArgumentException) there, which it answers with UNKNOWN_SERVER_ERROR.
            return invalid(UNKNOWN_SERVER_ERROR, e.getMessage());
        }
        if (errors != null) {
            if (timestampErrors) {
                return new Invalid(INVALID_TIMESTAMP, "One or more records have been rejected due to invalid timestamp",
                        List.copyOf(errors), true, errors.get(0).message());
            }
            String message = "One or more records have been rejected due to " + errors.size() + " record errors in"
                    + " total, and only showing the first three errors at most: "
                    + errors.subList(0, Math.min(errors.size(), 3));
            return new Invalid(INVALID_RECORD, message, List.copyOf(errors), true, message);
        }
        if (fixMaxTimestamp && timestampType == TimestampType.CREATE_TIME && batch.recordCount() > 0
                && (batch.timestampType() != TimestampType.CREATE_TIME || batch.maxTimestamp() != maxTimestamp)) {
            batch.setMaxTimestamp(TimestampType.CREATE_TIME, maxTimestamp);
        }
        return null;
    }

    /**
     * Kafka's LogValidator.validateTimestamp, arithmetic and words included, for the record {@code it} has just read.
     * {@code producedType} is the timestamp type the producer's batch or messages carried, not the one a conversion
     * for a LogAppendTime topic gave them.
     */
    private String timestampError(TimestampType producedType, RecordIterator it) {
        long timestamp = it.timestamp();
        if (timestampType == TimestampType.CREATE_TIME && timestamp != RecordBatch.NO_TIMESTAMP) {
            long difference = nowMs - timestamp;
            if (difference > timestampBeforeMaxMs || -1 * difference > timestampAfterMaxMs) {
                return "Timestamp " + timestamp + " of message with offset " + it.offset()
                        + " is out of range. The timestamp should be within [" + (nowMs - timestampBeforeMaxMs)
                        + ", " + (nowMs + timestampAfterMaxMs) + "]";
            }
        } else if (producedType == TimestampType.LOG_APPEND_TIME) {
            return "Invalid timestamp type in message " + it.current() + ". Producer should not set timestamp type to"
                    + " LogAppendTime.";
        }
        return null;
    }

    /**
     * An old client's message set: each entry's size is checked as Kafka checks it before anything else, then the set
     * becomes one v2 batch (checking every legacy CRC on the way), whose records meet the same record checks.
     */
    private Result validateLegacy(ByteBuf records, TopicPartition partition) {
        byte firstMagic = -1;
        int entries = 0;
        // The up-converted batch of a LogAppendTime topic says LogAppendTime whatever the producer sent: Kafka checks
        // the timestamp type of the messages as produced (a v0 message has none, which is fine).
        TimestampType producedType = TimestampType.NO_TIMESTAMP_TYPE;
        for (LegacyMessage message : LegacyMessageSets.of(records)) {
            if (message.sizeInBytes() > maxMessageBytes) {
                return invalid(MESSAGE_TOO_LARGE, "The record batch size in the append to " + partition + " is "
                        + message.sizeInBytes() + " bytes which exceeds the maximum configured value of "
                        + maxMessageBytes + ").");
            }
            if (firstMagic < 0) firstMagic = message.magic();
            if (message.timestampType() == TimestampType.LOG_APPEND_TIME) producedType = TimestampType.LOG_APPEND_TIME;
            if (message.magic() != firstMagic) {
                return invalid(INVALID_RECORD, "Batch magic " + message.magic() + " is not the same as the first"
                        + " batch's magic byte " + firstMagic + " in topic partition " + partition);
            }
            entries++;
        }
        if (entries == 0) {
            return invalid(INVALID_RECORD, "Record batch has no batches at all");
        }
        ByteBuf converted = RecordConversions.upConvert(records, targetCompression, logAppendTimeMs());
        boolean keep = false;
        try {
            RecordBatch batch = RecordBatch.wrap(converted);
            Result recordResult = validateRecords(batch, partition, false, producedType);
            if (recordResult != null) return recordResult;
            if (batch.sizeInBytes() > maxMessageBytes) {
                return invalid(MESSAGE_TOO_LARGE, "Message batch size is " + batch.sizeInBytes() + " bytes in append"
                        + " to partition " + partition + " which exceeds the maximum configured size of "
                        + maxMessageBytes + ".");
            }
            keep = true;
            return new Valid(converted, true);
        } finally {
            if (!keep) converted.release();
        }
    }

    /** The topic's compression.type applied to validated batches; the size is checked again if they changed. */
    private Result convert(ByteBuf records, TopicPartition partition) {
        ByteBuf converted = RecordConversions.convertForAppend(records, targetCompression, logAppendTimeMs());
        if (converted == null) return new Valid(records, false);
        for (RecordBatch batch : RecordBatches.of(converted)) {
            if (batch.sizeInBytes() > maxMessageBytes) {
                converted.release();
                return invalid(MESSAGE_TOO_LARGE, "Message batch size is " + batch.sizeInBytes() + " bytes in append"
                        + " to partition " + partition + " which exceeds the maximum configured size of "
                        + maxMessageBytes + ".");
            }
        }
        return new Valid(converted, true);
    }

    /** A refusal Kafka sends without a message or record errors. */
    private static Invalid invalid(short error, String reason) {
        return new Invalid(error, null, List.of(), error != CORRUPT_MESSAGE && error != MESSAGE_TOO_LARGE, reason);
    }
}
