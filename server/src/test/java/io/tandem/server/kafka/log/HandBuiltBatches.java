package io.tandem.server.kafka.log;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.tandem.kafka.wire.record.Header;
import io.tandem.kafka.wire.record.RecordBatch;
import io.tandem.kafka.wire.record.RecordBatchBuilder;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.function.Consumer;
import java.util.zip.CRC32C;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * v2 batches for the produce validation tests (LogValidatorRefusalsTest directly, ProduceValidationTest over a
 * socket): built by hand, damaged on purpose and re-signed with the CRC their new bytes have, so that the damage,
 * not the CRC, is what the broker must find.
 */
public final class HandBuiltBatches {
    /** In the one-record batch of {@link #keyValueHeaderBatch}: where each field of the record sits. */
    public static final int RECORD_LENGTH_AT = RecordBatch.RECORDS_OFFSET;
    public static final int KEY_LENGTH_AT = RecordBatch.RECORDS_OFFSET + 4;
    public static final int HEADER_COUNT_AT = RecordBatch.RECORDS_OFFSET + 8;
    public static final int HEADER_KEY_LENGTH_AT = RecordBatch.RECORDS_OFFSET + 9;

    private HandBuiltBatches() {
    }

    /** One batch of keyless records with these values, all at {@code timestamp}. */
    public static ByteBuf batch(long timestamp, String... values) {
        ByteBuf out = Unpooled.buffer();
        try (RecordBatchBuilder builder = RecordBatchBuilder.create(out)) {
            for (String value : values) builder.append(timestamp, null, value.getBytes(StandardCharsets.UTF_8));
            builder.build();
        }
        return out;
    }

    /** One record at {@code timestamp}: key "k", value "v", header "h" = "x", every length a one-byte varint. */
    public static ByteBuf keyValueHeaderBatch(long timestamp) {
        ByteBuf out = Unpooled.buffer();
        try (RecordBatchBuilder builder = RecordBatchBuilder.create(out)) {
            builder.append(timestamp, Unpooled.wrappedBuffer("k".getBytes()), Unpooled.wrappedBuffer("v".getBytes()),
                    List.of(new Header("h", Unpooled.wrappedBuffer("x".getBytes()))));
            builder.build();
        }
        assertEquals('k', out.getByte(KEY_LENGTH_AT + 1));
        assertEquals(zigzag(1), out.getByte(HEADER_COUNT_AT));
        assertEquals('h', out.getByte(HEADER_KEY_LENGTH_AT + 1));
        return out;
    }

    /** Damages a batch, then gives it the CRC its new bytes have. */
    public static void resign(ByteBuf batch, Consumer<ByteBuf> damage) {
        damage.accept(batch);
        CRC32C crc = new CRC32C();
        crc.update(batch.nioBuffer(RecordBatch.ATTRIBUTES_OFFSET, batch.writerIndex() - RecordBatch.ATTRIBUTES_OFFSET));
        batch.setInt(RecordBatch.CRC_OFFSET, (int) crc.getValue());
    }

    /** A one-byte zig-zag varint (for -64..63). */
    public static byte zigzag(int value) {
        return (byte) ((value << 1) ^ (value >> 31));
    }
}
