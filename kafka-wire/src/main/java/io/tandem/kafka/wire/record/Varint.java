package io.tandem.kafka.wire.record;

import io.netty.buffer.ByteBuf;

/**
 * Zig-zag variable-length integers as in protobuf, which record v2 uses for every per-record field. Reads are bounds
 * checked against an explicit limit and throw {@link InvalidRecordException}, since they parse untrusted record bytes.
 */
final class Varint {
    private Varint() {
    }

    /** Reads a zig-zag varint (at most 5 bytes) at the cursor, which moves past it; fails at {@code limit}. */
    static int readInt(ByteBuf buf, Cursor cursor, int limit) {
        int raw = 0;
        int shift = 0;
        while (true) {
            if (cursor.index >= limit) {
                throw new InvalidRecordException("record ends inside a varint");
            }
            byte b = buf.getByte(cursor.index++);
            raw |= (b & 0x7F) << shift;
            if (b >= 0) {
                break;
            }
            shift += 7;
            if (shift > 28) {
                throw new InvalidRecordException("varint is longer than 5 bytes");
            }
        }
        return (raw >>> 1) ^ -(raw & 1);
    }

    /** Reads a zig-zag varlong (at most 10 bytes). */
    static long readLong(ByteBuf buf, Cursor cursor, int limit) {
        long raw = 0;
        int shift = 0;
        while (true) {
            if (cursor.index >= limit) {
                throw new InvalidRecordException("record ends inside a varlong");
            }
            byte b = buf.getByte(cursor.index++);
            raw |= (long) (b & 0x7F) << shift;
            if (b >= 0) {
                break;
            }
            shift += 7;
            if (shift > 63) {
                throw new InvalidRecordException("varlong is longer than 10 bytes");
            }
        }
        return (raw >>> 1) ^ -(raw & 1);
    }

    static void writeInt(ByteBuf buf, int value) {
        int raw = (value << 1) ^ (value >> 31);
        while ((raw & ~0x7F) != 0) {
            buf.writeByte((raw & 0x7F) | 0x80);
            raw >>>= 7;
        }
        buf.writeByte(raw);
    }

    static void writeLong(ByteBuf buf, long value) {
        long raw = (value << 1) ^ (value >> 63);
        while ((raw & ~0x7FL) != 0) {
            buf.writeByte(((int) raw & 0x7F) | 0x80);
            raw >>>= 7;
        }
        buf.writeByte((int) raw);
    }

    static int sizeOfInt(int value) {
        int raw = (value << 1) ^ (value >> 31);
        int bytes = 1;
        while ((raw & ~0x7F) != 0) {
            bytes++;
            raw >>>= 7;
        }
        return bytes;
    }

    static int sizeOfLong(long value) {
        long raw = (value << 1) ^ (value >> 63);
        int bytes = 1;
        while ((raw & ~0x7FL) != 0) {
            bytes++;
            raw >>>= 7;
        }
        return bytes;
    }

    /** A mutable read position, so parsing a record walks forward without allocating per field. */
    static final class Cursor {
        int index;

        Cursor(int index) {
            this.index = index;
        }
    }
}
