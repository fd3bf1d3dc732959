package io.tandem.kafka.wire;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.MessageToMessageEncoder;
import java.util.List;

/**
 * Prefixes each outgoing frame body with its int32 length. The body is passed on as is (no copy), so a composite
 * response holding record slices goes out without being flattened.
 */
@ChannelHandler.Sharable
public final class KafkaFrameEncoder extends MessageToMessageEncoder<ByteBuf> {
    public static final KafkaFrameEncoder INSTANCE = new KafkaFrameEncoder();

    private KafkaFrameEncoder() {
        super(ByteBuf.class);
    }

    @Override
    protected void encode(ChannelHandlerContext ctx, ByteBuf body, List<Object> out) {
        out.add(ctx.alloc().buffer(KafkaWireLimits.FRAME_LENGTH_BYTES).writeInt(body.readableBytes()));
        out.add(body.retain());
    }
}
