package io.tandem.kafka.wire;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import java.util.List;

/**
 * Splits a Kafka byte stream into frames: a big-endian int32 length, then that many bytes. Emits each frame (without
 * its length) as a retained slice of the input, so request bodies are never copied.
 *
 * <p>A negative length or one above the limit closes the connection with one log line naming the peer, the limit and
 * the value; nothing of such a frame is buffered, and the rest of the connection's input is dropped.
 */
public final class KafkaFrameDecoder extends ByteToMessageDecoder {
    private static final System.Logger LOG = System.getLogger(KafkaFrameDecoder.class.getName());

    private final int frameBytesMax;
    private boolean rejected;

    public KafkaFrameDecoder(int frameBytesMax) {
        if (frameBytesMax <= 0) {
            throw new IllegalArgumentException("frameBytesMax must be positive: " + frameBytesMax);
        }
        this.frameBytesMax = frameBytesMax;
    }

    public KafkaFrameDecoder() {
        this(KafkaWireLimits.FRAME_BYTES_MAX_DEFAULT);
    }

    public int frameBytesMax() {
        return frameBytesMax;
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        if (rejected) {
            in.skipBytes(in.readableBytes());
            return;
        }
        if (in.readableBytes() < KafkaWireLimits.FRAME_LENGTH_BYTES) {
            return;
        }
        int length = in.getInt(in.readerIndex());
        if (length < 0 || length > frameBytesMax) {
            rejected = true;
            in.skipBytes(in.readableBytes());
            LOG.log(System.Logger.Level.WARNING, "Closing Kafka connection from {0}: frame of {1} bytes is outside 0..{2}",
                    ctx.channel().remoteAddress(), Integer.toUnsignedString(length), frameBytesMax);
            ctx.close();
            return;
        }
        if (in.readableBytes() < KafkaWireLimits.FRAME_LENGTH_BYTES + length) {
            return;
        }
        in.skipBytes(KafkaWireLimits.FRAME_LENGTH_BYTES);
        out.add(in.readRetainedSlice(length));
    }
}
