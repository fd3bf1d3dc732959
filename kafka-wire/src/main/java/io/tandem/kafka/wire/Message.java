package io.tandem.kafka.wire;

import io.netty.buffer.ByteBuf;
import java.util.List;

/**
 * A generated Kafka message or struct. Each concrete class also has {@code static X read(ByteBuf in, short version)}.
 *
 * <p>Fields a version does not have are skipped on write and left at their defaults on read, so handler code can fill
 * one object and write it at whatever version the client asked for.
 */
public interface Message {
    /** Writes this message at {@code version}, exactly {@link #size(short)} bytes. */
    void write(ByteBuf out, short version);

    /** The exact number of bytes {@link #write(ByteBuf, short)} produces at {@code version}. */
    int size(short version);

    /** Tagged fields read but not known to this codec; written back in tag order. */
    List<RawTaggedField> unknownTaggedFields();
}
