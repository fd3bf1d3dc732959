package io.tandem.server.kafka.network;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.tandem.kafka.wire.KafkaFrameDecoder;

import java.net.InetSocketAddress;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;

/** The Kafka listener: accepts connections and gives each a frame decoder and a {@link KafkaConnectionHandler}. */
public final class KafkaServer implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(KafkaServer.class.getName());

    private final EventLoopGroup bossGroup;
    private final EventLoopGroup workerGroup;
    private final Channel serverChannel;

    private KafkaServer(EventLoopGroup bossGroup, EventLoopGroup workerGroup, Channel serverChannel) {
        this.bossGroup = bossGroup;
        this.workerGroup = workerGroup;
        this.serverChannel = serverChannel;
    }

    /** Binds (port 0 picks a free port) and starts serving. */
    public static KafkaServer start(String host, int port, int frameBytesMax, int ioThreads, ApiRegistry registry,
                                    Executor requestExecutor) throws InterruptedException {
        EventLoopGroup boss = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        EventLoopGroup workers = new MultiThreadIoEventLoopGroup(ioThreads, NioIoHandler.newFactory());
        try {
            ServerBootstrap bootstrap = new ServerBootstrap()
                    .group(boss, workers)
                    .channel(NioServerSocketChannel.class)
                    .option(ChannelOption.SO_REUSEADDR, true)
                    .childOption(ChannelOption.TCP_NODELAY, true)
                    .childHandler(new ChannelInitializer<SocketChannel>() {
                        @Override
                        protected void initChannel(SocketChannel ch) {
                            ch.pipeline().addLast("frames", new KafkaFrameDecoder(frameBytesMax));
                            ch.pipeline().addLast("requests", new KafkaConnectionHandler(registry, requestExecutor));
                            registry.observer().connectionOpened(ch.pipeline());
                        }
                    });
            InetSocketAddress address = host == null || host.isEmpty() ? new InetSocketAddress(port)
                    : new InetSocketAddress(host, port);
            Channel channel = bootstrap.bind(address).sync().channel();
            LOG.log(System.Logger.Level.INFO, "Kafka listener bound to {0}", channel.localAddress());
            return new KafkaServer(boss, workers, channel);
        } catch (RuntimeException | InterruptedException e) {
            boss.shutdownGracefully(0, 0, TimeUnit.MILLISECONDS);
            workers.shutdownGracefully(0, 0, TimeUnit.MILLISECONDS);
            throw e;
        }
    }

    public int port() {
        return ((InetSocketAddress) serverChannel.localAddress()).getPort();
    }

    @Override
    public void close() {
        serverChannel.close().syncUninterruptibly();
        bossGroup.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        workerGroup.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }
}
