package io.tandem.server.kafka.log;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.tandem.kafka.wire.Errors;
import io.tandem.kafka.wire.record.RecordBatch;
import io.tandem.kafka.wire.record.RecordBatchBuilder;
import io.tandem.kafka.wire.record.TimestampType;
import io.tandem.server.kafka.TopicPartition;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.function.Consumer;

import static io.tandem.server.kafka.log.HandBuiltBatches.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every refusal of {@link LogValidator} on a v2 batch, called directly (no broker): the validator walks the records in
 * place over the batch's bytes, and each check Apache Kafka makes must still refuse with Kafka's code, its message (or
 * none) and its record errors. ProduceValidationTest covers the same refusals over a socket.
 */
class LogValidatorRefusalsTest {
    private static final TopicPartition PARTITION = new TopicPartition("t", 0);
    private static final long NOW = 1_700_000_000_000L;
    private static final long HOUR = 3_600_000L;

    private static LogValidator validator(TimestampType type, boolean compacted) {
        return new LogValidator(LogValidator.Origin.CLIENT, 1_048_588, null, type, HOUR, HOUR, compacted, NOW);
    }

    private static LogValidator createTime() {
        return validator(TimestampType.CREATE_TIME, false);
    }

    @Test
    void shouldAcceptAGoodBatchInPlaceAndCorrectItsMaxTimestamp() {
        ByteBuf batch = batch(NOW, "a", "b", "c");
        resign(batch, b -> b.setLong(RecordBatch.MAX_TIMESTAMP_OFFSET, NOW - 5));
        LogValidator.Valid valid = assertInstanceOf(LogValidator.Valid.class, createTime().validate(batch, PARTITION));
        assertSame(batch, valid.records(), "appended as produced, no copy");
        assertFalse(valid.converted());
        RecordBatch checked = RecordBatch.wrap(batch);
        assertEquals(NOW, checked.maxTimestamp(), "the records' maximum, as Kafka's in-place path sets it");
        assertTrue(checked.hasValidCrc());
    }

    @Test
    void shouldRefuseHeaderCountAndOffsetRangeMismatchesAsInvalidRecord() {
        ByteBuf count = batch(NOW, "a", "b", "c");
        resign(count, b -> b.setInt(RecordBatch.LAST_OFFSET_DELTA_OFFSET, 1));
        assertRefused(createTime().validate(count, PARTITION), Errors.INVALID_RECORD, "Inconsistent batch offset range");
        ByteBuf negative = batch(NOW, "a");
        resign(negative, b -> b.setInt(RecordBatch.LAST_OFFSET_DELTA_OFFSET, -1));
        assertRefused(createTime().validate(negative, PARTITION), Errors.INVALID_RECORD, "invalid offset range");
        ByteBuf none = batch(NOW, "a");
        resign(none, b -> b.setInt(RecordBatch.RECORD_COUNT_OFFSET, 0));
        assertRefused(createTime().validate(none, PARTITION), Errors.INVALID_RECORD, "Invalid reported count");
    }

    @Test
    void shouldRefuseNoBatchAndTwoBatchesAsInvalidRecord() {
        ByteBuf two = Unpooled.buffer();
        two.writeBytes(batch(NOW, "a"));
        two.writeBytes(batch(NOW, "b"));
        assertRefused(createTime().validate(two, PARTITION), Errors.INVALID_RECORD, "more than one batch");
        ByteBuf partial = Unpooled.buffer();
        ByteBuf cut = batch(NOW, "a");
        partial.writeBytes(cut, 0, cut.readableBytes() - 3);
        assertRefused(createTime().validate(partial, PARTITION), Errors.INVALID_RECORD, "no batches at all");
    }

    @Test
    void shouldRefuseABadCrcAsCorruptMessageAndAnOversizedBatchAsMessageTooLarge() {
        ByteBuf corrupt = batch(NOW, "a");
        corrupt.setByte(corrupt.writerIndex() - 2, 'z');
        LogValidator.Invalid crc = assertRefused(createTime().validate(corrupt, PARTITION), Errors.CORRUPT_MESSAGE,
                "Record is corrupt");
        assertFalse(crc.reportsLogStartOffset(), "Kafka leaves the log start offset at -1 for CORRUPT_MESSAGE");
        LogValidator small = new LogValidator(LogValidator.Origin.CLIENT, 40, null, TimestampType.CREATE_TIME, HOUR,
                HOUR, false, NOW);
        assertRefused(small.validate(batch(NOW, "a"), PARTITION), Errors.MESSAGE_TOO_LARGE, "exceeds the maximum");
    }

    @Test
    void shouldRefuseEveryRecordFramingErrorAsInvalidRecord() {
        assertFramingRefused(b -> b.setByte(KEY_LENGTH_AT, zigzag(50)), "key of 50 bytes overruns");
        assertFramingRefused(b -> b.setByte(KEY_LENGTH_AT, zigzag(-2)), "key has an invalid size -2");
        assertFramingRefused(b -> b.setByte(HEADER_COUNT_AT, zigzag(5)), "ends inside a varint");
        assertFramingRefused(b -> b.setByte(HEADER_COUNT_AT, zigzag(-1)), "negative header count");
        assertFramingRefused(b -> b.setByte(HEADER_KEY_LENGTH_AT, zigzag(-2)), "negative key size -2");
        assertFramingRefused(b -> b.setByte(RECORD_LENGTH_AT, zigzag(60)), "declares 60 bytes");
        assertFramingRefused(b -> b.setByte(RECORD_LENGTH_AT, zigzag(8)), "ends inside a varint");
        assertFramingRefused(b -> {
            for (int i = KEY_LENGTH_AT; i < b.writerIndex(); i++) b.setByte(i, 0xFF);
        }, "varint");
        ByteBuf trailing = Unpooled.buffer();
        trailing.writeBytes(keyValueHeaderBatch(NOW));
        trailing.writeByte(0);
        resign(trailing, b -> b.setInt(RecordBatch.LENGTH_OFFSET, b.getInt(RecordBatch.LENGTH_OFFSET) + 1));
        assertRefused(createTime().validate(trailing, PARTITION), Errors.INVALID_RECORD, "bytes after its 1 declared");
    }

    @Test
    void shouldRefuseClientOnlyBatchesAsInvalidRecord() {
        ByteBuf control = batch(NOW, "x");
        resign(control, b -> b.setShort(RecordBatch.ATTRIBUTES_OFFSET,
                b.getShort(RecordBatch.ATTRIBUTES_OFFSET) | RecordBatch.CONTROL_MASK));
        assertRefused(createTime().validate(control, PARTITION), Errors.INVALID_RECORD, "control records");
        ByteBuf noSequence = batch(NOW, "x");
        resign(noSequence, b -> b.setLong(RecordBatch.PRODUCER_ID_OFFSET, 7));
        assertRefused(createTime().validate(noSequence, PARTITION), Errors.INVALID_RECORD,
                "Invalid sequence number -1 in record batch with producerId 7");
    }

    @Test
    void shouldListEachRefusedRecordWithItsBatchIndexAsKafkaDoes() {
        // Compacted topic: records 1 and 3 have no key, record 2's timestamp is two hours old; a key error hides a
        // record's timestamp error, and any timestamp error makes the whole answer INVALID_TIMESTAMP.
        ByteBuf records = Unpooled.buffer();
        try (RecordBatchBuilder builder = RecordBatchBuilder.create(records)) {
            builder.append(NOW, "k".getBytes(StandardCharsets.UTF_8), "a".getBytes(StandardCharsets.UTF_8));
            builder.append(NOW, null, "b".getBytes(StandardCharsets.UTF_8));
            builder.append(NOW - 2 * HOUR, "k".getBytes(StandardCharsets.UTF_8), "c".getBytes(StandardCharsets.UTF_8));
            builder.append(NOW - 2 * HOUR, null, "d".getBytes(StandardCharsets.UTF_8));
            builder.build();
        }
        LogValidator.Invalid refused = assertInstanceOf(LogValidator.Invalid.class,
                validator(TimestampType.CREATE_TIME, true).validate(records, PARTITION));
        assertEquals(Errors.INVALID_TIMESTAMP.code(), refused.error());
        assertEquals("One or more records have been rejected due to invalid timestamp", refused.errorMessage());
        assertEquals(List.of(1, 2, 3), refused.recordErrors().stream().map(LogValidator.RecordError::batchIndex)
                .toList());
        assertEquals("Compacted topic cannot accept message without key in topic partition t-0",
                refused.recordErrors().get(0).message());
        assertEquals("Timestamp " + (NOW - 2 * HOUR) + " of message with offset 2 is out of range. The timestamp"
                + " should be within [" + (NOW - HOUR) + ", " + (NOW + HOUR) + "]", refused.recordErrors().get(1).message());
        assertTrue(refused.reportsLogStartOffset());

        ByteBuf keyless = batch(NOW, "a", "b", "c", "d", "e");
        LogValidator.Invalid summary = assertInstanceOf(LogValidator.Invalid.class,
                validator(TimestampType.CREATE_TIME, true).validate(keyless, PARTITION));
        assertEquals(Errors.INVALID_RECORD.code(), summary.error());
        assertEquals(5, summary.recordErrors().size());
        assertEquals("One or more records have been rejected due to 5 record errors in total, and only showing the"
                + " first three errors at most: [RecordError(batchIndex=0, message='Compacted topic cannot accept"
                + " message without key in topic partition t-0'), RecordError(batchIndex=1, message='Compacted topic"
                + " cannot accept message without key in topic partition t-0'), RecordError(batchIndex=2,"
                + " message='Compacted topic cannot accept message without key in topic partition t-0')]",
                summary.errorMessage());
    }

    @Test
    void shouldRefuseABatchMarkedLogAppendTimeOnALogAppendTimeTopicNamingTheRecord() {
        ByteBuf records = Unpooled.buffer();
        try (RecordBatchBuilder builder = RecordBatchBuilder.create(records)) {
            builder.timestampType(TimestampType.LOG_APPEND_TIME).logAppendTime(NOW);
            builder.append(NOW, null, "abc".getBytes(StandardCharsets.UTF_8));
            builder.build();
        }
        LogValidator.Invalid refused = assertInstanceOf(LogValidator.Invalid.class,
                validator(TimestampType.LOG_APPEND_TIME, false).validate(records, PARTITION));
        assertEquals(Errors.INVALID_TIMESTAMP.code(), refused.error());
        assertEquals(List.of(new LogValidator.RecordError(0, "Invalid timestamp type in message DefaultRecord(offset=0,"
                + " timestamp=" + NOW + ", key=0 bytes, value=3 bytes). Producer should not set timestamp type to"
                + " LogAppendTime.")), refused.recordErrors());
    }

    private static void assertFramingRefused(Consumer<ByteBuf> damage, String reason) {
        ByteBuf batch = keyValueHeaderBatch(NOW);
        resign(batch, damage);
        assertRefused(createTime().validate(batch, PARTITION), Errors.INVALID_RECORD, reason);
    }

    /** A refusal Kafka sends without a message or record errors, with the reason logged. */
    private static LogValidator.Invalid assertRefused(LogValidator.Result result, Errors error, String reason) {
        LogValidator.Invalid refused = assertInstanceOf(LogValidator.Invalid.class, result);
        assertEquals(error, Errors.forCode(refused.error()), refused.reason());
        assertNull(refused.errorMessage());
        assertEquals(List.of(), refused.recordErrors());
        assertTrue(refused.reason().contains(reason), refused.reason());
        return refused;
    }
}
