package io.tandem.server.zookeeper;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.tandem.zk.wire.ZkFrameDecoder;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * Looks at the first four bytes of a connection: a four-letter word (ruok, mntr, ...) is answered as text and the
 * connection closed, as Apache does; anything else is a length-prefixed jute stream, and this handler replaces itself
 * with a frame decoder that refuses frames longer than jute.maxbuffer.
 */
final class FourLetterWordSniffer extends ByteToMessageDecoder {
    private final ZkServer server;
    private final ServerConnection connection;

    FourLetterWordSniffer(ZkServer server, ServerConnection connection) {
        this.server = server;
        this.connection = connection;
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        if (in.readableBytes() < 4) {
            return;
        }
        String word = in.toString(in.readerIndex(), 4, StandardCharsets.ISO_8859_1);
        if (ZkServerConfig.ALL_FOUR_LETTER_WORDS.contains(word)) {
            in.skipBytes(4);
            long argument = 0;
            if (word.equals("stmk")) {
                if (in.readableBytes() < 8) {
                    in.readerIndex(in.readerIndex() - 4);
                    return;
                }
                argument = in.readLong();
            }
            in.skipBytes(in.readableBytes());
            ctx.channel().config().setAutoRead(false);
            long stmkArgument = argument;
            // Words that read the tree run on the commit thread; the rest (DNS, disk walks) must not hold it up.
            java.util.concurrent.CompletableFuture<String> answer = FourLetterWords.needsTree(word)
                    ? server.call(() -> FourLetterWords.run(server, word, stmkArgument))
                    : java.util.concurrent.CompletableFuture.supplyAsync(
                            () -> FourLetterWords.run(server, word, stmkArgument));
            answer.whenComplete((text, failure) -> {
                String reply = failure != null ? "Error: " + failure.getMessage() + "\n" : text;
                ctx.writeAndFlush(Unpooled.copiedBuffer(reply, StandardCharsets.UTF_8))
                        .addListener(ChannelFutureListener.CLOSE);
            });
            return;
        }
        ctx.pipeline().addAfter(ctx.name(), "frames", new ZkFrameDecoder(server.config.frameBytesMax()));
        ctx.pipeline().remove(this);
    }
}
