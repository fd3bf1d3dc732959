package io.tandem.kafka.wire;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.nio.ByteBuffer;
import java.util.Random;
import org.apache.kafka.common.utils.internals.ByteUtils;
import org.junit.jupiter.api.Test;

class PrimitivesTest {
    private static final int[] INTS = {0, 1, -1, 63, 64, 127, 128, 16383, 16384, Integer.MAX_VALUE, Integer.MIN_VALUE};
    private static final long[] LONGS = {0, 1, -1, 127, 128, Long.MAX_VALUE, Long.MIN_VALUE, 1L << 35, -(1L << 50)};

    @Test
    void shouldEncodeVarintsExactlyLikeKafka() {
        Random random = new Random(1);
        for (int i = 0; i < 2000; i++) {
            int value = i < INTS.length ? INTS[i] : random.nextInt() >> random.nextInt(32);
            ByteBuffer theirs = ByteBuffer.allocate(10);
            ByteUtils.writeUnsignedVarint(value, theirs);
            assertSameBytes(theirs, out -> Primitives.writeUnsignedVarint(out, value));
            assertEquals(ByteUtils.sizeOfUnsignedVarint(value), Primitives.sizeOfUnsignedVarint(value));
            assertEquals(value, Primitives.readUnsignedVarint(Unpooled.wrappedBuffer(theirs.array(), 0, theirs.position())));
            ByteBuffer signed = ByteBuffer.allocate(10);
            ByteUtils.writeVarint(value, signed);
            assertSameBytes(signed, out -> Primitives.writeVarint(out, value));
            assertEquals(ByteUtils.sizeOfVarint(value), Primitives.sizeOfVarint(value));
            assertEquals(value, Primitives.readVarint(Unpooled.wrappedBuffer(signed.array(), 0, signed.position())));
        }
    }

    @Test
    void shouldEncodeVarlongsExactlyLikeKafka() {
        Random random = new Random(2);
        for (int i = 0; i < 2000; i++) {
            long value = i < LONGS.length ? LONGS[i] : random.nextLong() >> random.nextInt(64);
            ByteBuffer theirs = ByteBuffer.allocate(10);
            ByteUtils.writeVarlong(value, theirs);
            assertSameBytes(theirs, out -> Primitives.writeVarlong(out, value));
            assertEquals(ByteUtils.sizeOfVarlong(value), Primitives.sizeOfVarlong(value));
            assertEquals(value, Primitives.readVarlong(Unpooled.wrappedBuffer(theirs.array(), 0, theirs.position())));
        }
    }

    @Test
    void shouldRejectOverlongVarints() {
        byte[] six = {(byte) 0x80, (byte) 0x80, (byte) 0x80, (byte) 0x80, (byte) 0x80, 0};
        assertThrows(KafkaCodecException.class, () -> Primitives.readUnsignedVarint(Unpooled.wrappedBuffer(six)));
        byte[] eleven = new byte[11];
        java.util.Arrays.fill(eleven, (byte) 0x80);
        assertThrows(KafkaCodecException.class, () -> Primitives.readVarlong(Unpooled.wrappedBuffer(eleven)));
    }

    @Test
    void shouldRoundTripCompactAndClassicStrings() {
        for (boolean flexible : new boolean[] {false, true}) {
            for (String value : new String[] {null, "", "topic", "日本\uD83D\uDE00"}) {
                ByteBuf out = Unpooled.buffer();
                Primitives.writeString(out, value, flexible);
                assertEquals(Primitives.sizeOfString(value, flexible), out.readableBytes());
                assertEquals(value, Primitives.readString(out, flexible));
            }
        }
    }

    @Test
    void shouldRejectLengthsBeyondTheInputBeforeAllocating() {
        assertThrows(KafkaCodecException.class, () -> Primitives.readBytes(Unpooled.buffer().writeInt(1 << 30), false));
        assertThrows(KafkaCodecException.class, () -> Primitives.readArrayLength(Unpooled.buffer().writeInt(1 << 30), false));
        assertThrows(KafkaCodecException.class, () -> Primitives.readString(Unpooled.buffer().writeShort(-2), false));
        assertNull(Primitives.readBytesSlice(Unpooled.buffer().writeByte(0), true));
        // 3 int32 elements need 12 bytes: 8 left is not enough, whatever the one-byte-per-element bound says
        ByteBuf ints = Unpooled.buffer().writeInt(3).writeLong(0);
        assertThrows(KafkaCodecException.class, () -> Primitives.readArrayLength(ints, false, 4));
    }

    private static void assertSameBytes(ByteBuffer theirs, java.util.function.Consumer<ByteBuf> ours) {
        ByteBuf out = Unpooled.buffer();
        ours.accept(out);
        assertEquals(Unpooled.wrappedBuffer(theirs.array(), 0, theirs.position()), out);
    }
}
