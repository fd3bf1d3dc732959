package io.tandem.zk.client;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import io.tandem.zk.wire.ZkFrameDecoder;
import io.tandem.zk.wire.ZkFrameEncoder;
import java.net.InetSocketAddress;
import java.util.function.Consumer;
import javax.net.ssl.SSLEngine;

/**
 * The pipeline of one client connection: ZooKeeper's length-prefixed frames, under TLS when the client has
 * {@link ClientTls}. The connect request may be written at once: the SslHandler holds it until the handshake is done.
 */
final class ClientChannels {
    private ClientChannels() {
    }

    /**
     * A bootstrap for {@code address}; a failed TLS handshake (an untrusted or misnamed server, no common protocol)
     * goes to {@code tlsFailed} before the connection closes, so the reason can reach whoever waits to connect.
     */
    static Bootstrap bootstrap(EventLoop loop, InetSocketAddress address, int connectTimeoutMs, int frameBytesMax,
                               ClientTls tls, Consumer<Throwable> tlsFailed, ChannelHandler handler) {
        return new Bootstrap().group(loop).channel(NioSocketChannel.class)
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, connectTimeoutMs)
                .handler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        if (tls != null) {
                            SSLEngine engine = tls.newEngine(address.getHostString(), address.getPort());
                            SslHandler ssl = tls.delegatedTasks() == null ? new SslHandler(engine)
                                    : new SslHandler(engine, tls.delegatedTasks());
                            // A server that never answers the handshake is left for the next host in time.
                            ssl.setHandshakeTimeoutMillis(connectTimeoutMs);
                            ch.pipeline().addLast(ssl, new HandshakeFailures(tlsFailed));
                        }
                        ch.pipeline().addLast(new ZkFrameDecoder(frameBytesMax), ZkFrameEncoder.INSTANCE, handler);
                    }
                });
    }

    /** Reports the cause of a failed handshake (SslHandler closes the connection itself). */
    private static final class HandshakeFailures extends ChannelInboundHandlerAdapter {
        private final Consumer<Throwable> tlsFailed;

        HandshakeFailures(Consumer<Throwable> tlsFailed) {
            this.tlsFailed = tlsFailed;
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object event) throws Exception {
            if (event instanceof SslHandshakeCompletionEvent done && !done.isSuccess()) {
                tlsFailed.accept(done.cause());
            }
            super.userEventTriggered(ctx, event);
        }
    }
}
