package io.tandem.server.zab.apache;

import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.handler.codec.CorruptedFrameException;
import io.netty.handler.codec.LengthFieldBasedFrameDecoder;
import io.netty.util.NetUtil;
import io.tandem.server.FatalErrors;
import io.tandem.server.net.AcceptedChannels;
import io.tandem.server.tls.HandshakeTasks;
import io.tandem.server.tls.HostLookup;
import java.io.Closeable;
import java.io.IOException;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * The election port as Apache's QuorumCnxManager runs it: one connection per pair of members, owned by the higher
 * sid. A member dials any peer it has something for; after its initial message ({@link ElectionWire}) it keeps the
 * connection only if its sid is higher, else it closes it and the peer, which learnt of it, dials back. An acceptor
 * keeps a connection from a higher sid (replacing an older one) and answers a lower sid by closing and dialling it.
 *
 * <p>Sending keeps Apache's semantics too: per peer one pending frame while there is no connection (a newer one
 * replaces it), and a new connection first carries the pending frame or, if none, the last frame sent to that peer,
 * so a notification lost with a broken connection is repeated. Bad frames, unknown sids that give no address and slow
 * initial messages close only their connection, with one log line; an unknown sid that gives its address is taken as
 * Apache takes it (a joiner).
 */
public final class ElectionTransport implements Closeable {
    private static final Logger LOG = System.getLogger(ElectionTransport.class.getName());

    /** Apache's default cnxTimeout for dialling a peer. */
    public static final int CONNECT_TIMEOUT_MS = 5_000;
    /** Servers outside the configuration whose introduced addresses are kept ({@link #learn}). */
    static final int LEARNED_MEMBERS_MAX = 16;
    /** An accepted connection must send its initial message within this. */
    static final long INITIAL_MESSAGE_TIMEOUT_MS = 5_000;

    /** One member's election address. */
    public record Member(long sid, String host, int electionPort) {
    }

    /** Frames received; called on a Netty event loop, must hand off and return. */
    @FunctionalInterface
    public interface Inbound {
        void onFrame(long from, byte[] frame);
    }

    private final long myId;
    /** Replaced whole when a reconfig names a member at a new address ({@link #addMembers}). */
    private volatile Map<Long, Member> members;
    private final Inbound inbound;
    private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    private final Map<Long, Channel> connections = new ConcurrentHashMap<>();
    private final Map<Long, byte[]> pending = new ConcurrentHashMap<>();
    private final Map<Long, byte[]> lastSent = new ConcurrentHashMap<>();
    private final Set<Long> dialling = ConcurrentHashMap.newKeySet();
    /** Servers no configuration named that introduced themselves ({@link #learn}). */
    private final Set<Long> learned = ConcurrentHashMap.newKeySet();
    private volatile boolean closed;
    /** Inbound sockets, also those still before their initial message, so that close() reaches each (AcceptedChannels). */
    private final AcceptedChannels accepted = new AcceptedChannels();
    private Channel listener;
    /** Plain, or sslQuorum's TLS on every connection ({@link #useSockets}). */
    private volatile QuorumSockets sockets = QuorumSockets.PLAIN;

    public ElectionTransport(long myId, Map<Long, Member> members, Inbound inbound) {
        if (!members.containsKey(myId)) {
            throw new IllegalArgumentException("server." + myId + " is missing from the members " + members.keySet());
        }
        this.myId = myId;
        this.members = Map.copyOf(members);
        this.inbound = inbound;
    }

    /**
     * Members a reconfig named, at the addresses it gives (a member already known keeps its connection until it is
     * dialled again); this member's own entry is kept as bound.
     */
    public void addMembers(Map<Long, Member> named) {
        synchronized (learned) {
            Map<Long, Member> next = new java.util.TreeMap<>(members);
            named.forEach((sid, member) -> {
                if (sid != myId) next.put(sid, member);
            });
            members = Map.copyOf(next);
            learned.removeAll(named.keySet()); // configured now: no longer counted against the learned limit
        }
    }

    /** Before {@link #start}: how connections are secured (sslQuorum's TLS); plain TCP unless called. */
    public void useSockets(QuorumSockets sockets) {
        this.sockets = sockets;
    }

    /** Binds this member's election port. */
    public ElectionTransport start() throws InterruptedException {
        Member me = members.get(myId);
        try {
            listener = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
                    .childOption(ChannelOption.TCP_NODELAY, true)
                    .childHandler(new ChannelInitializer<SocketChannel>() {
                        @Override
                        protected void initChannel(SocketChannel channel) {
                            if (!accepted.admit(channel)) return;
                            QuorumSockets secured = sockets;
                            if (secured.namesAcceptedPeers()) {
                                // The dialler's certificate may match only the name of its address: look it up
                                // in reverse now, off the loop, and read nothing before it is known.
                                channel.config().setAutoRead(false);
                                InetSocketAddress from = channel.remoteAddress();
                                try {
                                    HandshakeTasks.executor().execute(() -> {
                                        secured.learnPeerName(from.getAddress());
                                        channel.eventLoop().execute(() -> {
                                            addAcceptedHandlers(channel, secured);
                                            channel.config().setAutoRead(true);
                                        });
                                    });
                                } catch (RejectedExecutionException e) {
                                    LOG.log(Level.WARNING, "server {0}: too many TLS tasks queued to name {1}; closed",
                                            myId, from);
                                    channel.close();
                                }
                            } else {
                                addAcceptedHandlers(channel, secured);
                            }
                            channel.eventLoop().schedule(() -> {
                                // Not established (its initial message unread, or its peer's name still unknown).
                                if (channel.isOpen() && channel.pipeline().get("inbound") == null) {
                                    LOG.log(Level.INFO, "server {0}: no election initial message from {1} within {2} ms",
                                            myId, channel.remoteAddress(), INITIAL_MESSAGE_TIMEOUT_MS);
                                    channel.close();
                                }
                            }, INITIAL_MESSAGE_TIMEOUT_MS, TimeUnit.MILLISECONDS);
                        }
                    })
                    .bind(new InetSocketAddress(me.host(), me.electionPort())).sync().channel();
        } catch (Throwable e) {
            close();
            throw e;
        }
        LOG.log(Level.INFO, "server {0}: election port {1,number,#} (Apache fast leader election)", myId, boundPort());
        return this;
    }

    /**
     * TLS, if any, and the initial message's decoder on an accepted connection. The acceptor's TLS engine knows the
     * address the connection comes from, which the trust manager checks the dialler's certificate against, as
     * Apache's does.
     */
    private void addAcceptedHandlers(Channel channel, QuorumSockets secured) {
        if (!channel.isOpen()) return;
        InetSocketAddress from = (InetSocketAddress) channel.remoteAddress();
        // The address as digits: never a name, so the check never looks one up on this loop.
        ChannelHandler tls = secured.electionHandler(from.getAddress().getHostAddress(), from.getPort(), false);
        if (tls != null) channel.pipeline().addLast("tls", tls);
        channel.pipeline().addLast("initial", new InitialMessageDecoder());
    }

    public int boundPort() {
        return ((InetSocketAddress) listener.localAddress()).getPort();
    }

    public boolean isConnected(long sid) {
        Channel channel = connections.get(sid);
        return channel != null && channel.isActive();
    }

    /** Sends {@code frame} to {@code sid}, or keeps it as that peer's one pending frame and dials the peer. */
    public void send(long sid, byte[] frame) {
        if (closed || sid == myId || !members.containsKey(sid)) {
            return;
        }
        Channel channel = connections.get(sid);
        if (channel != null && channel.isActive()) {
            write(channel, sid, frame);
        } else {
            pending.put(sid, frame);
            dial(sid);
        }
    }

    private void write(Channel channel, long sid, byte[] frame) {
        lastSent.put(sid, frame);
        ByteBuf buffer = channel.alloc().buffer(4 + frame.length);
        buffer.writeInt(frame.length).writeBytes(frame);
        channel.writeAndFlush(buffer, channel.voidPromise());
    }

    private void dial(long sid) {
        if (closed || !dialling.add(sid)) {
            return;
        }
        Member peer = members.get(sid);
        if (NetUtil.isValidIpV4Address(peer.host()) || NetUtil.isValidIpV6Address(peer.host())) {
            // A literal address needs no lookup: dial at once (the dial-back of Apache's election race).
            connect(sid, peer, new InetSocketAddress(peer.host(), peer.electionPort()));
            return;
        }
        // Resolving a server.N name blocks on DNS, which no event loop may wait for (Netty's default resolver
        // would do it on the loop that connects): look it up on the TLS task threads, then connect.
        HostLookup lookup = sockets.lookup();
        try {
            HandshakeTasks.executor().execute(() -> {
                InetSocketAddress address;
                try {
                    address = new InetSocketAddress(lookup.byName(peer.host()), peer.electionPort());
                } catch (IOException | RuntimeException e) {
                    dialling.remove(sid);
                    LOG.log(Level.DEBUG, "server {0}: cannot resolve server {1}''s host {2}: {3}", myId, sid,
                            peer.host(), e.toString());
                    return;
                }
                connect(sid, peer, address);
            });
        } catch (RejectedExecutionException e) {
            dialling.remove(sid);
            LOG.log(Level.WARNING, "server {0}: too many TLS tasks queued to resolve server {1}''s host {2}", myId,
                    sid, peer.host());
        }
    }

    /** Dials {@code peer} at its resolved {@code address}, its TLS engine naming the host of its server.N line. */
    private void connect(long sid, Member peer, InetSocketAddress address) {
        if (closed) {
            dialling.remove(sid);
            return;
        }
        Member me = members.get(myId);
        new Bootstrap().group(group).channel(NioSocketChannel.class)
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, CONNECT_TIMEOUT_MS)
                .handler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel channel) {
                        ChannelHandler tls = sockets.electionHandler(peer.host(), peer.electionPort(), true);
                        if (tls != null) channel.pipeline().addLast("tls", tls);
                    }
                })
                .connect(address)
                .addListener((ChannelFutureListener) future -> {
                    dialling.remove(sid);
                    if (!future.isSuccess()) {
                        LOG.log(Level.DEBUG, "server {0}: cannot reach server {1} at {2}:{3,number,#}: {4}", myId,
                                sid, peer.host(), peer.electionPort(), future.cause().toString());
                        return;
                    }
                    Channel channel = future.channel();
                    byte[] hello = ElectionWire.encodeInitialMessage(myId, me.host(), me.electionPort());
                    if (sid > myId) {
                        // Apache's rule: the higher sid owns the connection. Ours only tells the peer to dial back.
                        channel.pipeline().addLast(new DialBackOnly(sid));
                        channel.writeAndFlush(Unpooled.wrappedBuffer(hello)).addListener(ChannelFutureListener.CLOSE);
                        return;
                    }
                    channel.write(Unpooled.wrappedBuffer(hello), channel.voidPromise());
                    established(channel, sid);
                });
    }

    /** {@code channel} is now the connection with {@code sid}: frames flow both ways. Runs on its event loop. */
    private void established(Channel channel, long sid) {
        if (closed) {
            channel.close();
            return;
        }
        channel.pipeline().addLast("frames", new LengthFieldBasedFrameDecoder(ElectionWire.FRAME_BYTES_MAX, 0, 4, 0, 4));
        channel.pipeline().addLast("inbound", new FrameHandler(sid));
        Channel previous = connections.put(sid, channel);
        if (previous != null && previous != channel) {
            previous.close();
        }
        channel.closeFuture().addListener(f -> connections.remove(sid, channel));
        byte[] first = pending.remove(sid);
        if (first == null) {
            first = lastSent.get(sid);
        }
        if (first != null) {
            write(channel, sid, first);
        } else {
            channel.flush();
        }
    }

    /**
     * A server no configuration here names introduced itself with its election address: a joiner started with a
     * configuration that adds it, which must learn the ensemble's vote before the reconfig adding it can commit.
     * Apache's QuorumCnxManager takes such a connection and dials back at the announced address; so does this, for
     * at most {@link #LEARNED_MEMBERS_MAX} of them (a reconfig naming one replaces what was learned).
     */
    private void learn(long sid, ElectionWire.InitialMessage hello) {
        if (hello.electionAddresses().isEmpty() || learned.size() >= LEARNED_MEMBERS_MAX) return;
        java.net.InetSocketAddress address = hello.electionAddresses().get(0);
        synchronized (learned) {
            if (members.containsKey(sid) || learned.size() >= LEARNED_MEMBERS_MAX) return;
            learned.add(sid);
            Map<Long, Member> next = new java.util.TreeMap<>(members);
            next.put(sid, new Member(sid, address.getHostString(), address.getPort()));
            members = Map.copyOf(next);
        }
        LOG.log(Level.INFO, "server {0}: election connection from server {1}, which no configuration here names, "
                + "at {2}:{3,number,#}", myId, sid, address.getHostString(), address.getPort());
    }

    /** Reads an accepted connection's initial message, then applies the higher-sid rule. */
    private final class InitialMessageDecoder extends ByteToMessageDecoder {
        @Override
        protected void decode(ChannelHandlerContext context, ByteBuf in, List<Object> out) {
            if (in.readableBytes() < 8) return;
            int start = in.readerIndex();
            long first = in.getLong(start);
            long sid;
            if (first >= 0) {
                sid = first; // a pre-3.4.6 peer sends its sid alone
                in.skipBytes(8);
            } else {
                if (in.readableBytes() < 20) return;
                long version = first;
                long claimed = in.getLong(start + 8);
                int length = in.getInt(start + 16);
                if (length <= 0 || length > ElectionWire.INITIAL_ADDRESS_BYTES_MAX) {
                    throw new CorruptedFrameException("initial message address of " + length + " bytes, limit "
                            + ElectionWire.INITIAL_ADDRESS_BYTES_MAX);
                }
                if (in.readableBytes() < 20 + length) return;
                byte[] address = ByteBufUtil.getBytes(in, start + 20, length);
                in.skipBytes(20 + length);
                ElectionWire.InitialMessage hello = ElectionWire.parseInitialMessage(version, claimed, address);
                sid = hello.sid();
                if (sid != myId && !members.containsKey(sid)) learn(sid, hello);
            }
            Channel channel = context.channel();
            if (sid > myId && members.containsKey(sid)) {
                // The frame handlers go in before this decoder leaves: Netty hands a removed decoder's leftover
                // bytes (frames that came with the initial message) to the handler after it at removal time.
                established(channel, sid);
                context.pipeline().remove(this);
                return;
            }
            context.pipeline().remove(this);
            if (sid == myId) {
                LOG.log(Level.WARNING, "server {0}: election connection from {1} claims our own id; closed", myId,
                        channel.remoteAddress());
                channel.close();
            } else if (!members.containsKey(sid)) {
                LOG.log(Level.WARNING, "server {0}: election connection from {1} with unknown id {2}; closed", myId,
                        channel.remoteAddress(), sid);
                channel.close();
            } else {
                // We own the pair's connection: drop theirs and dial them.
                channel.close();
                Channel old = connections.get(sid);
                if (old == null || !old.isActive()) {
                    dial(sid);
                }
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext context, Throwable cause) {
            FatalErrors.check(cause);
            LOG.log(Level.WARNING, "server {0}: bad election initial message from {1}: {2}; closed", myId,
                    context.channel().remoteAddress(), rootMessage(cause));
            context.close();
        }
    }

    /** A connection that only carries the initial message to a higher sid: a failed handshake closes it quietly. */
    private final class DialBackOnly extends io.netty.channel.ChannelInboundHandlerAdapter {
        private final long sid;

        DialBackOnly(long sid) {
            this.sid = sid;
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext context, Throwable cause) {
            FatalErrors.check(cause);
            LOG.log(Level.DEBUG, "server {0}: initial message to server {1} failed: {2}", myId, sid,
                    rootMessage(cause));
            context.close();
        }
    }

    private final class FrameHandler extends SimpleChannelInboundHandler<ByteBuf> {
        private final long sid;

        FrameHandler(long sid) {
            this.sid = sid;
        }

        @Override
        protected void channelRead0(ChannelHandlerContext context, ByteBuf frame) {
            inbound.onFrame(sid, ByteBufUtil.getBytes(frame));
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext context, Throwable cause) {
            FatalErrors.check(cause);
            LOG.log(Level.WARNING, "server {0}: election connection with server {1} ({2}) failed: {3}; closed", myId,
                    sid, context.channel().remoteAddress(), rootMessage(cause));
            context.close();
        }
    }

    private static String rootMessage(Throwable cause) {
        Throwable root = cause;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        return root.toString();
    }

    @Override
    public void close() {
        closed = true;
        if (listener != null) {
            listener.close();
        }
        for (Channel channel : connections.values()) {
            channel.close();
        }
        accepted.close();
        group.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
    }
}
