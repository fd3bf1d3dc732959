package io.tandem.server.zookeeper;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.tandem.server.net.AcceptedChannels;
import io.tandem.server.tls.ReloadingServerTls;
import io.tandem.server.tls.StoreFileWatcher;
import io.tandem.zk.wire.ZkFrameDecoder;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.Comparator;
import java.util.Queue;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ConcurrentSkipListSet;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;

/**
 * The client port: Netty's event loops, one {@link ServerConnection} per accepted socket behind zk-wire's frame
 * decoder, and the set of open connections that the commit thread, the four-letter words and the ensemble walk.
 */
final class ClientListener {
    private static final Logger LOG = System.getLogger(ClientListener.class.getName());
    /**
     * A connection's replies waiting for its socket: past 1 MiB (a jute.maxbuffer's worth, so one large reply alone
     * does not pause a client that reads) it is not read, and it is read again below 512 KiB.
     */
    static final WriteBufferWaterMark REPLY_WATER_MARK = new WriteBufferWaterMark(512 << 10, 1 << 20);

    private final ZkServer server;
    private final ZkServerConfig config;
    /**
     * In the order they opened, not by identity hash code: closeAll and the session touches walk it, and the
     * deterministic simulator must see the same order on every run of a seed (SimulatorRepeatabilityTest).
     */
    private final Set<ServerConnection> connections =
            new ConcurrentSkipListSet<>(Comparator.comparingLong(ServerConnection::openOrder));
    private final AtomicLong opened = new AtomicLong();
    /** Every accepted socket, also those not yet {@link #opened}: {@link #stopAccepting()} must reach each (AcceptedChannels). */
    private final AcceptedChannels accepted = new AcceptedChannels();
    /** Admitted connections per client address, for maxClientCnxns; counted atomically across event loops. */
    private final ConcurrentHashMap<InetAddress, Integer> perAddress = new ConcurrentHashMap<>();
    /** Closed on an event loop, cleaned up on the commit thread; bounded by the number of connections. */
    private final Queue<ServerConnection> closed = new ConcurrentLinkedQueue<>();
    private EventLoopGroup bossGroup;
    private EventLoopGroup workerGroup;
    private Channel serverChannel;
    /** The secure client port (secureClientPort), or null. */
    private Channel secureChannel;
    /** The watcher of the secure port's store files (see ZkSecurity.reloadStores), or null. */
    private StoreFileWatcher storeWatcher;

    ClientListener(ZkServer server, ZkServerConfig config) {
        this.server = server;
        this.config = config;
    }

    void bind() throws IOException {
        bossGroup = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        workerGroup = new MultiThreadIoEventLoopGroup(Math.max(2, Runtime.getRuntime().availableProcessors()),
                NioIoHandler.newFactory());
        serverChannel = bind(config.host(), config.port(), null);
        LOG.log(Level.INFO, () -> "ZooKeeper server listening on " + config.host() + ":" + port() + " (" + config + ")");
        ReloadingServerTls tls = server.security.tls;
        if (tls != null) {
            secureChannel = bind(server.security.secureHost, server.security.securePort, tls);
            LOG.log(Level.INFO, () -> "ZooKeeper server listening for TLS clients on " + server.security.secureHost + ":"
                    + securePort());
            if (server.security.reloadStores) watchStores(tls);
        }
    }

    /**
     * Reloads the secure port's stores when their files are written, off the event loops (client.certReload, or no
     * ssl.authProvider: see ZkSecurity.reloadStores). As Apache's NettyServerCnxnFactory, a watcher that cannot be set
     * up is logged and the port serves on with the stores it has.
     */
    private void watchStores(ReloadingServerTls tls) {
        try {
            storeWatcher = tls.watch("ZooKeeper secure client port " + securePort(),
                    "zk-cert-reload-" + securePort());
            LOG.log(Level.INFO, () -> "ZooKeeper secure client port: reloads its stores when these change: "
                    + storeWatcher.files());
        } catch (IOException e) {
            LOG.log(Level.ERROR, () -> "unable to set up client certificate reload filewatcher: " + e);
        }
    }

    /** Binds a client port; with {@code tls}, every connection starts with its TLS handshake (Netty's SslHandler). */
    private Channel bind(String host, int port, ReloadingServerTls tls) throws IOException {
        ServerBootstrap bootstrap = new ServerBootstrap()
                .group(bossGroup, workerGroup)
                .channel(NioServerSocketChannel.class)
                .option(ChannelOption.SO_REUSEADDR, true)
                .childOption(ChannelOption.TCP_NODELAY, true)
                // Replies past the high mark stop the reading of the connection until they drain below the low one
                // (ServerConnection.channelWritabilityChanged): a client that does not read gets no more answers.
                .childOption(ChannelOption.WRITE_BUFFER_WATER_MARK, REPLY_WATER_MARK)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel channel) {
                        if (!accepted.admit(channel)) return;
                        ServerConnection connection = new ServerConnection(server, channel);
                        if (tls != null) {
                            // The context in force now: a reload (client.certReload) changes it for new connections.
                            // The engine knows the client's address, which ssl.clientHostnameVerification checks.
                            InetSocketAddress from = channel.remoteAddress();
                            channel.pipeline().addLast("tls", tls.current().newHandler(channel.alloc(),
                                    from.getHostString(), from.getPort()));
                        }
                        // The decoder reads a four-letter word in the first length prefix, as Apache does.
                        channel.pipeline().addLast("frames", new ZkFrameDecoder(config.frameBytesMax(), true));
                        channel.pipeline().addLast("zk", connection);
                    }
                });
        String name = tls == null ? "ZooKeeper port " : "ZooKeeper secure port ";
        try {
            return bootstrap.bind(host, port).sync().channel();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while binding the " + name, e);
        } catch (Exception e) {
            throw new IOException("cannot bind the " + name + host + ":" + port + ": " + e, e);
        }
    }

    int port() {
        return ((InetSocketAddress) serverChannel.localAddress()).getPort();
    }

    int securePort() {
        return secureChannel == null ? -1 : ((InetSocketAddress) secureChannel.localAddress()).getPort();
    }

    /** Replies of all open connections handed to their sockets and not yet written. */
    long unsentBytes() {
        long total = 0;
        for (ServerConnection connection : connections) {
            total += connection.unsentBytes();
        }
        return total;
    }

    /** The open connections (a live view; safe to walk from any thread). */
    Set<ServerConnection> connections() {
        return connections;
    }

    /** The next connection's place in {@link #connections}: one more than the last one's. */
    long nextOpenOrder() {
        return opened.incrementAndGet();
    }

    void opened(ServerConnection connection) {
        connections.add(connection);
    }

    /**
     * Apache's maxClientCnxns: admits one more connection from {@code address} unless it already has the maximum
     * open (0 = no limit). The check and the count are one atomic step, so simultaneous accepts on different event
     * loops cannot slip past the limit together. An admitted connection calls {@link #leave} when it closes.
     */
    boolean admit(InetAddress address) {
        int max = config.maxClientConnections();
        boolean[] admitted = {false};
        perAddress.compute(address, (key, open) -> {
            int count = open == null ? 0 : open;
            if (max > 0 && count >= max) {
                return open;
            }
            admitted[0] = true;
            return count + 1;
        });
        return admitted[0];
    }

    void leave(InetAddress address) {
        perAddress.computeIfPresent(address, (key, open) -> open <= 1 ? null : open - 1);
    }

    void closed(ServerConnection connection) {
        connections.remove(connection);
        // Not through the bounded request queue: an event loop must never wait.
        closed.add(connection);
    }

    /** The next connection closed since the last call, or null (commit thread). */
    ServerConnection pollClosed() {
        return closed.poll();
    }

    /** Closes the connections holding {@code sessionId}, except {@code keep}. */
    void closeOwnerOf(long sessionId, ServerConnection keep) {
        for (ServerConnection other : connections) {
            if (other != keep && other.sessionId == sessionId) {
                other.closeNow();
            }
        }
    }

    /** Closes the open connections; new ones are still accepted (a member between roles, a failed log). */
    void closeAll() {
        for (ServerConnection connection : connections) {
            connection.closeNow();
        }
    }

    /** For good (the server is stopping): closes the ports and every socket they accepted, even one not yet opened. */
    void stopAccepting() {
        if (serverChannel != null) {
            serverChannel.close().syncUninterruptibly();
        }
        if (secureChannel != null) {
            secureChannel.close().syncUninterruptibly();
        }
        if (storeWatcher != null) {
            storeWatcher.close();
        }
        accepted.close();
    }

    void shutdown() {
        // Also here: a server whose start failed after bind is shut down without stopAccepting.
        if (storeWatcher != null) {
            storeWatcher.close();
        }
        if (workerGroup != null) {
            workerGroup.shutdownGracefully(0, 2, TimeUnit.SECONDS);
            bossGroup.shutdownGracefully(0, 2, TimeUnit.SECONDS);
        }
    }
}
