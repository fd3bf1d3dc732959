package io.tandem.kafka.wire.record;

import io.netty.buffer.ByteBuf;

/**
 * A record header. The value is a slice of the record's buffer (or {@code null}); it is not retained, so it is valid
 * only as long as the record it came from.
 */
public record Header(String key, ByteBuf value) {
    public Header {
        if (key == null) {
            throw new IllegalArgumentException("header key must not be null");
        }
    }
}
