package io.tandem.server.zab;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.handler.codec.TooLongFrameException;

import java.util.List;

/**
 * The quorum port's framing (a 4-byte big-endian length, then the frame) with two limits: until the connection is
 * established (hello read, peer authenticated when quorum authentication is on) a frame may be at most
 * {@link #HANDSHAKE_FRAME_BYTES_MAX}, so a stranger can never make this member buffer a large frame; after it, the
 * transport's frame limit (a SYNC may carry a snapshot). A frame over the limit fails the connection
 * ({@link TooLongFrameException}: the handler logs one line and closes it) before any of its body is kept.
 */
final class QuorumFrameDecoder extends ByteToMessageDecoder {
    /** A hello is 13 bytes and an AUTH frame at most {@link QuorumAuth#TOKEN_BYTES_MAX} plus 6. */
    static final int HANDSHAKE_FRAME_BYTES_MAX = QuorumAuth.TOKEN_BYTES_MAX + 64;

    private final int frameBytesMax;
    private boolean established;
    private boolean failed;

    QuorumFrameDecoder(int frameBytesMax) {
        this.frameBytesMax = frameBytesMax;
    }

    /** Lifts the limit to the transport's; called on the event loop by the handler once the peer is known. */
    void established() {
        established = true;
    }

    @Override
    protected void decode(ChannelHandlerContext context, ByteBuf in, List<Object> out) {
        if (failed) {
            in.skipBytes(in.readableBytes());
            return;
        }
        if (in.readableBytes() < 4) return;
        int length = in.getInt(in.readerIndex());
        int max = established ? frameBytesMax : HANDSHAKE_FRAME_BYTES_MAX;
        if (length < 0 || length > max) {
            failed = true;
            in.skipBytes(in.readableBytes());
            throw new TooLongFrameException("frame of " + length + " bytes is outside 0.." + max
                    + (established ? "" : " (before the peer is established)"));
        }
        if (in.readableBytes() < 4 + length) return;
        in.skipBytes(4);
        out.add(in.readRetainedSlice(length));
    }
}
