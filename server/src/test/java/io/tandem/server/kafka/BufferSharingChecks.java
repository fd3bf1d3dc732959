package io.tandem.server.kafka;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.tandem.kafka.wire.record.LegacyMessage;
import io.tandem.kafka.wire.record.LegacyMessageSets;
import io.tandem.kafka.wire.record.LegacyRecord;
import io.tandem.kafka.wire.record.Record;
import io.tandem.kafka.wire.record.RecordBatch;
import io.tandem.kafka.wire.record.RecordIterator;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicLong;

/**
 * What the buffer-sharing stress tests produce and how they check what they read back: every record's key and value
 * are a pure function of (round, partition, offset), so any reader can check any byte of any partition, in record
 * batches (v2) or in the legacy message sets a down-converted fetch answers with. The tests watch for leaks with a
 * {@link LeakWatch}.
 */
final class BufferSharingChecks {
    final AtomicLong batchesChecked = new AtomicLong();
    final AtomicLong bytesChecked = new AtomicLong();
    final AtomicLong legacyMessagesChecked = new AtomicLong();

    /**
     * Every batch whole, its CRC right, its offsets contiguous from the one holding {@code fetchOffset}, every
     * record's key and value those produced; returns the offset after the last record.
     */
    long checkBatches(String where, int round, int partition, long fetchOffset, ByteBuf records) {
        int position = records.readerIndex();
        long expectedBase = -1;
        long next = fetchOffset;
        while (position < records.writerIndex()) {
            RecordBatch batch = RecordBatch.wrap(records, position);
            if (!batch.isValid()) {
                fail(where + ": CRC mismatch in the batch at offset " + batch.baseOffset() + " (byte "
                        + (position - records.readerIndex()) + " of " + records.readableBytes() + ")");
            }
            if (expectedBase < 0) {
                assertTrue(batch.baseOffset() <= fetchOffset && fetchOffset <= batch.lastOffset(),
                        where + ": first batch " + batch.baseOffset() + ".." + batch.lastOffset());
            } else {
                assertEquals(expectedBase, batch.baseOffset(), where + ": batches not contiguous");
            }
            next = batch.baseOffset();
            try (RecordIterator iterator = batch.records()) {
                while (iterator.hasNext()) {
                    Record record = iterator.next();
                    assertEquals(next, record.offset(), where);
                    checkBytes(where + ", key of offset " + next, key(partition, next), record.key());
                    checkBytes(where + ", value of offset " + next, value(round, partition, next), record.value());
                    next++;
                }
            }
            assertEquals(batch.nextOffset(), next, where + ": records of the batch at " + batch.baseOffset());
            expectedBase = next;
            position += batch.sizeInBytes();
            batchesChecked.incrementAndGet();
            bytesChecked.addAndGet(batch.sizeInBytes());
        }
        return next;
    }

    /**
     * A down-converted answer (Fetch v0-3): every message's CRC and magic right, offsets contiguous and starting at
     * or before {@code fetchOffset}, every key and value those produced.
     */
    void checkLegacy(String where, int round, int partition, long fetchOffset, byte magic, ByteBuf records) {
        LegacyMessageSets set = LegacyMessageSets.of(records);
        for (LegacyMessage message : set) {
            if (!message.isValid()) fail(where + ": CRC mismatch in the message at offset " + message.offset());
            assertEquals(magic, message.magic(), where + ": magic of the message at offset " + message.offset());
        }
        long expected = -1;
        try (LegacyMessageSets.DeepIterator iterator = set.records(ByteBufAllocator.DEFAULT)) {
            while (iterator.hasNext()) {
                LegacyRecord record = iterator.next();
                if (expected < 0) {
                    assertTrue(record.offset() <= fetchOffset, where + ": first message at " + record.offset());
                } else {
                    assertEquals(expected, record.offset(), where + ": messages not contiguous");
                }
                checkBytes(where + ", key of offset " + record.offset(), key(partition, record.offset()), record.key());
                checkBytes(where + ", value of offset " + record.offset(), value(round, partition, record.offset()),
                        record.value());
                expected = record.offset() + 1;
                legacyMessagesChecked.incrementAndGet();
                bytesChecked.addAndGet(record.message().sizeInBytes());
            }
        }
    }

    static void checkBytes(String where, byte[] expected, ByteBuf actual) {
        assertTrue(actual != null, where + ": null");
        assertEquals(expected.length, actual.readableBytes(), where + ": length");
        if (ByteBufUtil.equals(Unpooled.wrappedBuffer(expected), actual)) return;
        for (int i = 0; i < expected.length; i++) {
            byte b = actual.getByte(actual.readerIndex() + i);
            if (b != expected[i]) {
                fail(where + ": byte " + i + " of " + expected.length + " is " + b + ", produced " + expected[i]);
            }
        }
    }

    static byte[] key(int partition, long offset) {
        return (partition + ":" + offset).getBytes(StandardCharsets.US_ASCII);
    }

    /** 100 bytes to 12 KiB, a pseudo-random stream of (round, partition, offset): equal runs would hide a swap. */
    static byte[] value(int round, int partition, long offset) {
        long state = mix(round * 0x9E3779B97F4A7C15L ^ partition * 0xC2B2AE3D27D4EB4FL ^ offset * 0x165667B19E3779F9L);
        byte[] value = new byte[100 + (int) Long.remainderUnsigned(state, 12 * 1024)];
        for (int i = 0; i < value.length; i += 8) {
            state = mix(state + 0x9E3779B97F4A7C15L);
            for (int j = 0; j < 8 && i + j < value.length; j++) value[i + j] = (byte) (state >>> (8 * j));
        }
        return value;
    }

    private static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
