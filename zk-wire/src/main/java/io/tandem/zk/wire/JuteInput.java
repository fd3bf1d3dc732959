package io.tandem.zk.wire;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * Reads jute primitives from a Netty {@link ByteBuf}: big-endian int and long, one-byte booleans, length-prefixed
 * buffers and UTF-8 strings (length -1 = null) and count-prefixed vectors (count -1 = null).
 *
 * <p>Every read checks the bytes it needs first, so malformed input fails with {@link ZkCodecException} naming the
 * field kind, the limit and the value, and never with Netty's IndexOutOfBoundsException. Lengths are checked against
 * the remaining bytes before anything is allocated, so a hostile length cannot make us allocate more than the frame.
 */
public final class JuteInput {

    /** Reads one element of a vector or one whole record. */
    @FunctionalInterface
    public interface Reader<T> {
        T read(JuteInput in);
    }

    private final ByteBuf buf;
    private final int fieldBytesMax;

    public JuteInput(ByteBuf buf) {
        this(buf, JuteLimits.FIELD_BYTES_MAX_DEFAULT);
    }

    public JuteInput(ByteBuf buf, int fieldBytesMax) {
        if (fieldBytesMax < 0) {
            throw new IllegalArgumentException("fieldBytesMax must not be negative: " + fieldBytesMax);
        }
        this.buf = buf;
        this.fieldBytesMax = fieldBytesMax;
    }

    /** Decodes one record from the whole of {@code bytes}; trailing bytes are left unread, as Apache's archives do. */
    public static <T> T decode(byte[] bytes, Reader<T> reader) {
        return reader.read(new JuteInput(Unpooled.wrappedBuffer(bytes)));
    }

    public ByteBuf buffer() {
        return buf;
    }

    public int readableBytes() {
        return buf.readableBytes();
    }

    public boolean hasRemaining() {
        return buf.isReadable();
    }

    public int readInt() {
        require(Integer.BYTES, "int");
        return buf.readInt();
    }

    public long readLong() {
        require(Long.BYTES, "long");
        return buf.readLong();
    }

    /** Any non-zero byte is true, as in java.io.DataInput which Apache's archive uses. */
    public boolean readBool() {
        require(1, "boolean");
        return buf.readByte() != 0;
    }

    public byte[] readBuffer() {
        int length = readLength("buffer");
        if (length < 0) {
            return null;
        }
        byte[] bytes = new byte[length];
        buf.readBytes(bytes);
        return bytes;
    }

    public String readString() {
        int length = readLength("ustring");
        if (length < 0) {
            return null;
        }
        String value = buf.toString(buf.readerIndex(), length, StandardCharsets.UTF_8);
        buf.skipBytes(length);
        return value;
    }

    /** A vector of elements read by {@code elementReader}; null when the count is -1. */
    public <T> List<T> readVector(Reader<T> elementReader) {
        int count = readInt();
        if (count == -1) {
            return null;
        }
        // Apache quietly treats other negative counts as empty; a peer that sends one is broken, so we say so.
        // Every element takes at least one byte, so a count beyond the remaining bytes is a lie we refuse before
        // allocating a list for it.
        if (count < 0 || count > buf.readableBytes()) {
            throw new ZkCodecException("vector count " + count + " is invalid with " + buf.readableBytes()
                    + " bytes left");
        }
        List<T> elements = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            elements.add(elementReader.read(this));
        }
        return Collections.unmodifiableList(elements);
    }

    public List<String> readStringVector() {
        return readVector(JuteInput::readString);
    }

    private int readLength(String kind) {
        int length = readInt();
        if (length == -1) {
            return -1;
        }
        if (length < 0 || length > fieldBytesMax) {
            throw new ZkCodecException(kind + " length " + length + " is outside [0, " + fieldBytesMax + "]");
        }
        require(length, kind);
        return length;
    }

    private void require(int bytes, String kind) {
        if (buf.readableBytes() < bytes) {
            throw new ZkCodecException("truncated " + kind + ": needs " + bytes + " bytes, " + buf.readableBytes()
                    + " left");
        }
    }
}
