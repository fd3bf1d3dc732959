package io.tandem.zk.wire;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import java.util.List;

/**
 * Splits a ZooKeeper byte stream into frames: a 4-byte big-endian length, then that many bytes. Emits each frame's
 * body as a retained slice of the input (no copy); the receiver releases it.
 *
 * <p>A length below zero or above the maximum (jute.maxbuffer, checked exactly as Apache's NIOServerCnxn and
 * NettyServerCnxn do: {@code len < 0 || len > maxBuffer}) raises {@link ZkCodecException} naming the peer, the limit
 * and the value. The stream cannot be resynchronised after that, so the decoder drops everything that follows and the
 * pipeline's owner closes the connection.
 */
public final class ZkFrameDecoder extends ByteToMessageDecoder {

    private final int frameBytesMax;
    private boolean corrupted;

    public ZkFrameDecoder() {
        this(JuteLimits.FRAME_BYTES_MAX_DEFAULT);
    }

    public ZkFrameDecoder(int frameBytesMax) {
        if (frameBytesMax < 0) {
            throw new IllegalArgumentException("frameBytesMax must not be negative: " + frameBytesMax);
        }
        this.frameBytesMax = frameBytesMax;
    }

    public int frameBytesMax() {
        return frameBytesMax;
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        if (corrupted) {
            in.skipBytes(in.readableBytes());
            return;
        }
        while (in.readableBytes() >= JuteLimits.FRAME_LENGTH_PREFIX_BYTES) {
            int length = in.getInt(in.readerIndex());
            if (length < 0 || length > frameBytesMax) {
                corrupted = true;
                in.skipBytes(in.readableBytes());
                throw new ZkCodecException("frame length " + length + " from " + ctx.channel().remoteAddress()
                        + " is outside [0, " + frameBytesMax + "] (jute.maxbuffer); malformed or too large request");
            }
            if (in.readableBytes() < JuteLimits.FRAME_LENGTH_PREFIX_BYTES + length) {
                return;
            }
            in.skipBytes(JuteLimits.FRAME_LENGTH_PREFIX_BYTES);
            out.add(in.readRetainedSlice(length));
        }
    }
}
