package io.tandem.server.kafka.network;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.AdaptiveRecvByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.tandem.server.net.AcceptedChannels;
import io.netty.handler.timeout.IdleStateHandler;
import io.tandem.kafka.wire.KafkaFrameDecoder;
import io.tandem.server.kafka.BrokerConfigPolicy;
import io.tandem.server.kafka.security.ListenerSecurity;
import io.tandem.server.kafka.security.SaslAuthenticator;

import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;

/**
 * One Kafka listener: accepts connections within the {@link ListenerLimits} and gives each an idle timer, TLS when
 * the listener's security says so (marked {@link ChannelSecurity#ENCRYPTED}), a {@link ReadGate} (when to read), a
 * frame decoder and a {@link KafkaConnectionHandler} (with a SASL authenticator on a SASL listener); requests go to
 * the {@link RequestDispatcher}'s handler threads.
 */
public final class KafkaServer implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(KafkaServer.class.getName());
    /** The most one socket read takes from a connection. */
    static final int SOCKET_READ_BYTES_MAX = 64 * 1024;

    private final EventLoopGroup bossGroup;
    private final EventLoopGroup workerGroup;
    private final Channel serverChannel;
    private final AcceptedChannels accepted;

    private KafkaServer(EventLoopGroup bossGroup, EventLoopGroup workerGroup, Channel serverChannel,
                        AcceptedChannels accepted) {
        this.bossGroup = bossGroup;
        this.workerGroup = workerGroup;
        this.serverChannel = serverChannel;
        this.accepted = accepted;
    }

    /** Binds (port 0 picks a free port) and starts serving. */
    public static KafkaServer start(String host, int port, ListenerLimits limits, ApiRegistry registry,
                                    RequestDispatcher dispatcher) throws InterruptedException {
        return start(host, port, limits, registry, dispatcher, ListenerSecurity.plaintext(BrokerConfigPolicy.PLAINTEXT));
    }

    /** Binds one listener with its security (TLS and/or SASL) and its own connection limits, and starts serving. */
    public static KafkaServer start(String host, int port, ListenerLimits limits, ApiRegistry registry,
                                    RequestDispatcher dispatcher, ListenerSecurity security)
            throws InterruptedException {
        return start(host, port, limits, registry, dispatcher, security,
                new ConnectionLimits(limits.connectionsMax(), limits.connectionsPerIpMax()), false);
    }

    /**
     * Binds one listener of a broker whose listeners share {@code connections} (Kafka counts max.connections and
     * max.connections.per.ip over all of them); a {@code protect}ed listener accepts past max.connections (Kafka's
     * inter-broker listener when there are others).
     */
    public static KafkaServer start(String host, int port, ListenerLimits limits, ApiRegistry registry,
                                    RequestDispatcher dispatcher, ListenerSecurity security,
                                    ConnectionLimits connections, boolean protect) throws InterruptedException {
        EventLoopGroup boss = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        EventLoopGroup workers = new MultiThreadIoEventLoopGroup(limits.networkThreads(), NioIoHandler.newFactory());
        AcceptedChannels accepted = new AcceptedChannels();
        RequestBytesBudget budget = limits.queuedRequestBytesMax() > 0
                ? new RequestBytesBudget(limits.queuedRequestBytesMax()) : null;
        try {
            ServerBootstrap bootstrap = new ServerBootstrap()
                    .group(boss, workers)
                    .channel(NioServerSocketChannel.class)
                    .option(ChannelOption.SO_REUSEADDR, true)
                    // Ahead of Netty's acceptor: the connection creation rates see each connection first.
                    .handler(new ChannelInitializer<Channel>() {
                        @Override
                        protected void initChannel(Channel listener) {
                            listener.pipeline().addLast("rates",
                                    new AcceptThrottle(connections.rates(), connections,
                                            security.listenerName(), protect));
                        }
                    })
                    .childOption(ChannelOption.TCP_NODELAY, true)
                    // Stated rather than left to Netty's default: one socket read brings at most 64 KiB, which is
                    // all a muted connection holds beyond its request (see ReadGate).
                    .childOption(ChannelOption.RCVBUF_ALLOCATOR,
                            new AdaptiveRecvByteBufAllocator(64, 2048, SOCKET_READ_BYTES_MAX))
                    .childHandler(new ChannelInitializer<SocketChannel>() {
                        @Override
                        protected void initChannel(SocketChannel ch) {
                            if (!accepted.admit(ch)) return;
                            // Counted by the listener's AcceptThrottle; first, so any read or write counts as use.
                            ConnectionActivity activity = ch.attr(ConnectionActivity.KEY).getAndSet(null);
                            if (activity != null) ch.pipeline().addLast("activity", activity);
                            if (limits.connectionIdleMs() > 0) {
                                ch.pipeline().addLast("idle", new IdleStateHandler(0, 0, limits.connectionIdleMs(),
                                        TimeUnit.MILLISECONDS));
                            }
                            if (security.encrypted()) {
                                // The context in force now: a reload of the stores changes it for new connections.
                                ch.attr(ChannelSecurity.ENCRYPTED).set(Boolean.TRUE);
                                ch.config().setAllocator(TlsAllocator.INSTANCE);
                                ch.pipeline().addLast("tls", security.sslContext().newHandler(ch.alloc()));
                            }
                            ReadGate gate = new ReadGate(budget, limits.frameBytesMax());
                            ch.pipeline().addLast("gate", gate);
                            ch.pipeline().addLast("frames", new KafkaFrameDecoder(limits.frameBytesMax()));
                            ch.pipeline().addLast("requests", new KafkaConnectionHandler(registry, dispatcher, gate,
                                    security.listenerName(), security.protocol(),
                                    security.sasl() == null ? null : new SaslAuthenticator(security.sasl()),
                                    limits.failedAuthenticationDelayMs()));
                            registry.observer().connectionOpened(ch.pipeline());
                        }
                    });
            InetSocketAddress address = host == null || host.isEmpty() ? new InetSocketAddress(port)
                    : new InetSocketAddress(host, port);
            Channel channel = bootstrap.bind(address).sync().channel();
            LOG.log(System.Logger.Level.INFO, "Kafka listener {0} ({1}) bound to {2}", security.listenerName(),
                    security.protocol(), channel.localAddress());
            return new KafkaServer(boss, workers, channel, accepted);
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
        // Nothing is accepted any more: close every connection now, as Kafka's SocketServer does, rather than trust
        // the workers' shutdown to find one whose registration was still in flight (see AcceptedChannels).
        accepted.close();
        workerGroup.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }
}
