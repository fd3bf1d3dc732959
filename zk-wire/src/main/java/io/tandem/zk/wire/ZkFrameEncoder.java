package io.tandem.zk.wire;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.MessageToByteEncoder;

/**
 * Writes ZooKeeper frames: a 4-byte big-endian length, then the bytes of a {@link JuteRecord} (usually a
 * {@link ZkPacket}) or of an already encoded {@link ByteBuf} body. The record is written straight into the outbound
 * buffer and its length patched in afterwards, so nothing is serialized twice.
 *
 * <p>There is no outbound size check: Apache's server does not limit what it sends either; its client refuses replies
 * of jute.maxbuffer or more, which is the client's decision to make.
 */
@ChannelHandler.Sharable
public final class ZkFrameEncoder extends MessageToByteEncoder<Object> {

    public static final ZkFrameEncoder INSTANCE = new ZkFrameEncoder();

    @Override
    public boolean acceptOutboundMessage(Object message) {
        return message instanceof JuteRecord || message instanceof ByteBuf;
    }

    @Override
    protected void encode(ChannelHandlerContext ctx, Object message, ByteBuf out) {
        int lengthIndex = out.writerIndex();
        out.writeInt(0);
        if (message instanceof ByteBuf body) {
            out.writeBytes(body, body.readerIndex(), body.readableBytes());
        } else {
            ((JuteRecord) message).write(new JuteOutput(out));
        }
        out.setInt(lengthIndex, out.writerIndex() - lengthIndex - JuteLimits.FRAME_LENGTH_PREFIX_BYTES);
    }
}
