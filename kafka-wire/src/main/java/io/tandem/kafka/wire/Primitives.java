package io.tandem.kafka.wire;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.UUID;

/**
 * Kafka's primitive wire types over Netty buffers: varints, (compact) strings, bytes and arrays, UUIDs, tagged fields.
 *
 * <p>Readers throw {@link KafkaCodecException} on anything malformed (negative or oversized lengths, overlong varints);
 * a length is always checked against the readable bytes before anything is allocated for it, so a hostile length
 * cannot make the codec allocate more than the frame it was given.
 */
public final class Primitives {
    public static final UUID ZERO_UUID = new UUID(0L, 0L);
    public static final byte[] EMPTY_BYTES = new byte[0];

    /** Largest up-front capacity of a decoded list; real arrays in requests are far shorter (partitions per topic). */
    static final int ARRAY_INITIAL_CAPACITY_MAX = 1024;

    private Primitives() {
    }

    // ------------------------------------------------------------------ varints

    public static int readUnsignedVarint(ByteBuf in) {
        int value = 0;
        for (int shift = 0; shift < 35; shift += 7) {
            byte b = in.readByte();
            value |= (b & 0x7f) << shift;
            if (b >= 0) {
                return value;
            }
        }
        throw new KafkaCodecException("unsigned varint is longer than 5 bytes");
    }

    public static void writeUnsignedVarint(ByteBuf out, int value) {
        if ((value & ~0x7f) == 0) {
            out.writeByte(value);
            return;
        }
        while ((value & ~0x7f) != 0) {
            out.writeByte((value & 0x7f) | 0x80);
            value >>>= 7;
        }
        out.writeByte(value);
    }

    public static int sizeOfUnsignedVarint(int value) {
        // 1 byte per 7 significant bits; computed without a loop.
        int bits = 32 - Integer.numberOfLeadingZeros(value);
        return bits == 0 ? 1 : (bits + 6) / 7;
    }

    public static int readVarint(ByteBuf in) {
        int raw = readUnsignedVarint(in);
        return (raw >>> 1) ^ -(raw & 1);
    }

    public static void writeVarint(ByteBuf out, int value) {
        writeUnsignedVarint(out, (value << 1) ^ (value >> 31));
    }

    public static int sizeOfVarint(int value) {
        return sizeOfUnsignedVarint((value << 1) ^ (value >> 31));
    }

    public static long readVarlong(ByteBuf in) {
        long raw = 0;
        for (int shift = 0; shift < 70; shift += 7) {
            byte b = in.readByte();
            raw |= (long) (b & 0x7f) << shift;
            if (b >= 0) {
                return (raw >>> 1) ^ -(raw & 1);
            }
        }
        throw new KafkaCodecException("varlong is longer than 10 bytes");
    }

    public static void writeVarlong(ByteBuf out, long value) {
        long raw = (value << 1) ^ (value >> 63);
        while ((raw & ~0x7fL) != 0) {
            out.writeByte((int) ((raw & 0x7f) | 0x80));
            raw >>>= 7;
        }
        out.writeByte((int) raw);
    }

    public static int sizeOfVarlong(long value) {
        long raw = (value << 1) ^ (value >> 63);
        int bits = 64 - Long.numberOfLeadingZeros(raw);
        return bits == 0 ? 1 : (bits + 6) / 7;
    }

    // ------------------------------------------------------------------ lengths

    public static void checkReadable(ByteBuf in, int length) {
        if (length < 0 || length > in.readableBytes()) {
            throw new KafkaCodecException("length " + length + " exceeds the " + in.readableBytes() + " bytes left");
        }
    }

    /** Skips a flexible version's tagged fields: a count, then each tag with its size and bytes, none read. */
    public static void skipTaggedFields(ByteBuf in) {
        int tags = readUnsignedVarint(in);
        for (int i = 0; i < tags; i++) {
            readUnsignedVarint(in);
            int size = readUnsignedVarint(in);
            checkReadable(in, size);
            in.skipBytes(size);
        }
    }

    /**
     * Reads an array length: -1 for null. Checked against the bytes left, given the fewest bytes one element can take,
     * so a hostile count fails here instead of after a long loop.
     */
    public static int readArrayLength(ByteBuf in, boolean flexible, int minimumElementBytes) {
        int length = flexible ? readUnsignedVarint(in) - 1 : in.readInt();
        if (length < -1) {
            throw new KafkaCodecException("negative array length " + length);
        }
        if ((long) length * minimumElementBytes > in.readableBytes()) {
            throw new KafkaCodecException("array of " + length + " exceeds the " + in.readableBytes() + " bytes left");
        }
        return length;
    }

    /** Reads an array length whose elements take at least one byte each. */
    public static int readArrayLength(ByteBuf in, boolean flexible) {
        return readArrayLength(in, flexible, 1);
    }

    /**
     * Initial list capacity for a decoded array: the count, up to a bound, so that a count that passed the length check
     * still cannot make one up-front allocation far larger than the bytes behind it (lists grow as elements arrive).
     */
    public static int initialCapacity(int count) {
        return Math.min(count, ARRAY_INITIAL_CAPACITY_MAX);
    }

    public static void writeArrayLength(ByteBuf out, int length, boolean flexible) {
        if (flexible) {
            writeUnsignedVarint(out, length + 1);
        } else {
            out.writeInt(length);
        }
    }

    private static int sizeOfLength(int length, boolean flexible) {
        return flexible ? sizeOfUnsignedVarint(length + 1) : 4;
    }

    // ------------------------------------------------------------------ uuid

    public static UUID readUuid(ByteBuf in) {
        long high = in.readLong();
        long low = in.readLong();
        return high == 0 && low == 0 ? ZERO_UUID : new UUID(high, low);
    }

    public static void writeUuid(ByteBuf out, UUID value) {
        if (value == null) {
            throw new KafkaCodecException("uuid fields are not nullable");
        }
        out.writeLong(value.getMostSignificantBits());
        out.writeLong(value.getLeastSignificantBits());
    }

    // ------------------------------------------------------------------ strings

    /** A string: int16 length (classic) or unsigned varint length + 1 (compact); null for the null marker. */
    public static String readString(ByteBuf in, boolean flexible) {
        int length = flexible ? readUnsignedVarint(in) - 1 : in.readShort();
        if (length < 0) {
            if (length == -1) {
                return null;
            }
            throw new KafkaCodecException("negative string length " + length);
        }
        checkReadable(in, length);
        if (length == 0) {
            return "";
        }
        String value = in.toString(in.readerIndex(), length, StandardCharsets.UTF_8);
        in.skipBytes(length);
        return value;
    }

    public static void writeString(ByteBuf out, String value, boolean flexible) {
        if (value == null) {
            if (flexible) {
                out.writeByte(0);
            } else {
                out.writeShort(-1);
            }
            return;
        }
        int length = ByteBufUtil.utf8Bytes(value);
        if (flexible) {
            writeUnsignedVarint(out, length + 1);
        } else {
            if (length > Short.MAX_VALUE) {
                throw new KafkaCodecException("string of " + length + " bytes is longer than an int16 length allows");
            }
            out.writeShort(length);
        }
        ByteBufUtil.reserveAndWriteUtf8(out, value, length);
    }

    public static int sizeOfString(String value, boolean flexible) {
        if (value == null) {
            return flexible ? 1 : 2;
        }
        int length = ByteBufUtil.utf8Bytes(value);
        return (flexible ? sizeOfUnsignedVarint(length + 1) : 2) + length;
    }

    // ------------------------------------------------------------------ bytes

    private static int readBytesLength(ByteBuf in, boolean flexible) {
        int length = flexible ? readUnsignedVarint(in) - 1 : in.readInt();
        if (length < -1) {
            throw new KafkaCodecException("negative bytes length " + length);
        }
        if (length >= 0) {
            checkReadable(in, length);
        }
        return length;
    }

    public static byte[] readBytes(ByteBuf in, boolean flexible) {
        int length = readBytesLength(in, flexible);
        if (length < 0) {
            return null;
        }
        byte[] value = new byte[length];
        in.readBytes(value);
        return value;
    }

    /** Bytes as a slice of {@code in} (no copy), valid while {@code in} is. */
    public static ByteBuf readBytesSlice(ByteBuf in, boolean flexible) {
        int length = readBytesLength(in, flexible);
        return length < 0 ? null : in.readSlice(length);
    }

    public static void writeBytes(ByteBuf out, byte[] value, boolean flexible) {
        if (value == null) {
            writeArrayLength(out, -1, flexible);
            return;
        }
        writeArrayLength(out, value.length, flexible);
        out.writeBytes(value);
    }

    public static void writeBytes(ByteBuf out, ByteBuf value, boolean flexible) {
        if (value == null) {
            writeArrayLength(out, -1, flexible);
            return;
        }
        int length = value.readableBytes();
        writeArrayLength(out, length, flexible);
        out.writeBytes(value, value.readerIndex(), length);
    }

    /**
     * Records: like {@link #writeBytes(ByteBuf, ByteBuf, boolean)}, except while {@link KafkaFrames#encodeResponseGathering}
     * is writing on this thread, where large record sets are not copied but gathered as separate buffers.
     */
    public static void writeRecords(ByteBuf out, ByteBuf value, boolean flexible) {
        RecordsGatherer gatherer = RecordsGatherer.CURRENT.get();
        if (gatherer == null || value == null || value.readableBytes() < gatherer.minimumBytes) {
            writeBytes(out, value, flexible);
            return;
        }
        writeArrayLength(out, value.readableBytes(), flexible);
        gatherer.add(out.writerIndex(), value);
    }

    /** Where record sets skipped by {@link #writeRecords} belong: after byte {@code position} of the output. */
    static final class RecordsGatherer {
        static final ThreadLocal<RecordsGatherer> CURRENT = new ThreadLocal<>();

        final int minimumBytes;
        final java.util.ArrayList<Integer> positions = new java.util.ArrayList<>();
        final java.util.ArrayList<ByteBuf> records = new java.util.ArrayList<>();

        RecordsGatherer(int minimumBytes) {
            this.minimumBytes = minimumBytes;
        }

        void add(int position, ByteBuf value) {
            positions.add(position);
            records.add(value);
        }
    }

    public static int sizeOfBytes(byte[] value, boolean flexible) {
        return value == null ? sizeOfLength(-1, flexible) : sizeOfLength(value.length, flexible) + value.length;
    }

    public static int sizeOfBytes(ByteBuf value, boolean flexible) {
        if (value == null) {
            return sizeOfLength(-1, flexible);
        }
        int length = value.readableBytes();
        return sizeOfLength(length, flexible) + length;
    }

    public static boolean isNotEmpty(byte[] value) {
        return value != null && value.length > 0;
    }

    public static boolean isNotEmpty(ByteBuf value) {
        return value != null && value.isReadable();
    }

    public static String describeBytes(Object value) {
        if (value == null) {
            return "null";
        }
        int length = value instanceof ByteBuf buffer ? buffer.readableBytes() : ((byte[]) value).length;
        return length + " bytes";
    }

    // ------------------------------------------------------------------ arrays

    public static int sizeOfFixedArray(List<?> value, int elementSize, boolean flexible) {
        return value == null ? sizeOfLength(-1, flexible) : sizeOfLength(value.size(), flexible) + elementSize * value.size();
    }

    public static int sizeOfStringArray(List<String> value, boolean flexible) {
        if (value == null) {
            return sizeOfLength(-1, flexible);
        }
        int size = sizeOfLength(value.size(), flexible);
        for (int i = 0, n = value.size(); i < n; i++) {
            size += sizeOfString(value.get(i), flexible);
        }
        return size;
    }

    // ------------------------------------------------------------------ tagged fields

    public static RawTaggedField readRawTaggedField(ByteBuf in, int tag, int size) {
        if (tag < 0) {
            throw new KafkaCodecException("tag " + Integer.toUnsignedString(tag) + " is out of range");
        }
        byte[] data = new byte[size];
        in.readBytes(data);
        return new RawTaggedField(tag, data);
    }

    /** After a known tagged field: it must not have run past its declared size; any unread rest is skipped. */
    public static void checkTaggedFieldEnd(ByteBuf in, int end, int tag) {
        if (in.readerIndex() > end) {
            throw new KafkaCodecException("tagged field " + tag + " is longer than its declared size");
        }
        in.readerIndex(end);
    }

    /** Writes unknown tagged fields from {@code index} on whose tag is below {@code tagLimit}; returns the next index. */
    public static int writeRawTaggedFieldsBelow(ByteBuf out, List<RawTaggedField> fields, int index, int tagLimit) {
        if (fields == null) {
            return index;
        }
        while (index < fields.size() && fields.get(index).tag() < tagLimit) {
            RawTaggedField field = fields.get(index++);
            writeUnsignedVarint(out, field.tag());
            writeUnsignedVarint(out, field.data().length);
            out.writeBytes(field.data());
        }
        return index;
    }

    public static int sizeOfRawTaggedFields(List<RawTaggedField> fields) {
        int size = 0;
        for (int i = 0, n = fields.size(); i < n; i++) {
            RawTaggedField field = fields.get(i);
            size += sizeOfUnsignedVarint(field.tag()) + sizeOfUnsignedVarint(field.data().length) + field.data().length;
        }
        return size;
    }

    public static boolean sameRawTaggedFields(List<RawTaggedField> a, List<RawTaggedField> b) {
        boolean aEmpty = a == null || a.isEmpty();
        boolean bEmpty = b == null || b.isEmpty();
        if (aEmpty || bEmpty) {
            return aEmpty == bEmpty;
        }
        return a.equals(b);
    }
}
