package io.tandem.zk.wire;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;

/**
 * A jute record: a fixed sequence of fields written in declaration order with no tags and no framing of its own.
 * Every record class also has a {@code static X read(JuteInput)}.
 */
public interface JuteRecord {

    void write(JuteOutput out);

    /** Writes this record to the end of {@code buf}. */
    default void writeTo(ByteBuf buf) {
        write(new JuteOutput(buf));
    }

    /** This record's bytes, for storing it (transaction log entries, Txn.data of a multi transaction). */
    default byte[] toByteArray() {
        ByteBuf buf = Unpooled.buffer(64);
        try {
            writeTo(buf);
            byte[] bytes = new byte[buf.readableBytes()];
            buf.readBytes(bytes);
            return bytes;
        } finally {
            buf.release();
        }
    }
}
