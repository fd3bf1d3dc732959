package io.tandem.kafka.wire.record;

import io.netty.buffer.ByteBuf;
import java.nio.ByteBuffer;
import java.util.zip.CRC32;
import java.util.zip.CRC32C;
import java.util.zip.Checksum;

/** CRC32C (batch v2) and CRC32 (message v0/v1) over a ByteBuf region, without copying it. */
final class Checksums {
    private Checksums() {
    }

    static long crc32c(ByteBuf buf, int index, int length) {
        return update(new CRC32C(), buf, index, length);
    }

    static long crc32(ByteBuf buf, int index, int length) {
        return update(new CRC32(), buf, index, length);
    }

    private static long update(Checksum checksum, ByteBuf buf, int index, int length) {
        if (buf.hasArray()) {
            checksum.update(buf.array(), buf.arrayOffset() + index, length);
        } else if (buf.nioBufferCount() == 1) {
            checksum.update(buf.nioBuffer(index, length));
        } else {
            for (ByteBuffer part : buf.nioBuffers(index, length)) {
                checksum.update(part);
            }
        }
        return checksum.getValue();
    }
}
