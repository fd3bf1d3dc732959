package io.tandem.zk.wire;

import io.netty.buffer.ByteBuf;
import java.util.List;

/**
 * Writes jute primitives to a Netty {@link ByteBuf}, byte for byte as Apache's BinaryOutputArchive does.
 */
public final class JuteOutput {

    /** Writes one element of a vector. */
    @FunctionalInterface
    public interface Writer<T> {
        void write(JuteOutput out, T value);
    }

    private final ByteBuf buf;

    public JuteOutput(ByteBuf buf) {
        this.buf = buf;
    }

    public ByteBuf buffer() {
        return buf;
    }

    public void writeInt(int value) {
        buf.writeInt(value);
    }

    public void writeLong(long value) {
        buf.writeLong(value);
    }

    public void writeBool(boolean value) {
        buf.writeByte(value ? 1 : 0);
    }

    public void writeBuffer(byte[] value) {
        if (value == null) {
            buf.writeInt(-1);
            return;
        }
        buf.writeInt(value.length);
        buf.writeBytes(value);
    }

    /**
     * Writes a string as Apache 3.9's BinaryOutputArchive does: each UTF-16 char on its own in one to three bytes.
     * That matches standard UTF-8 for every char outside the surrogate range; a surrogate pair becomes two three-byte
     * sequences (as in CESU-8) instead of one four-byte sequence. Real clients see the same bytes from us as from Apache.
     */
    public void writeString(String value) {
        if (value == null) {
            buf.writeInt(-1);
            return;
        }
        int length = encodedLength(value);
        buf.ensureWritable(Integer.BYTES + length);
        buf.writeInt(length);
        if (length == value.length()) {
            buf.writeCharSequence(value, java.nio.charset.StandardCharsets.US_ASCII);
            return;
        }
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (c < 0x80) {
                buf.writeByte(c);
            } else if (c < 0x800) {
                buf.writeByte(0xc0 | (c >> 6));
                buf.writeByte(0x80 | (c & 0x3f));
            } else {
                buf.writeByte(0xe0 | (c >> 12));
                buf.writeByte(0x80 | ((c >> 6) & 0x3f));
                buf.writeByte(0x80 | (c & 0x3f));
            }
        }
    }

    /** Writes a vector; a null list is written as count -1, which Apache's readers turn back into null. */
    public <T> void writeVector(List<T> values, Writer<T> elementWriter) {
        if (values == null) {
            buf.writeInt(-1);
            return;
        }
        buf.writeInt(values.size());
        for (T value : values) {
            elementWriter.write(this, value);
        }
    }

    public void writeStringVector(List<String> values) {
        writeVector(values, JuteOutput::writeString);
    }

    public void writeRecord(JuteRecord record) {
        record.write(this);
    }

    private static int encodedLength(String value) {
        int length = 0;
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            length += c < 0x80 ? 1 : c < 0x800 ? 2 : 3;
        }
        return length;
    }
}
