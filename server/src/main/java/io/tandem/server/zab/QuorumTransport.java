package io.tandem.server.zab;

import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.tandem.server.net.AcceptedChannels;
import io.tandem.server.tls.StoreFileWatcher;
import java.io.Closeable;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * Carries {@link ZabMessage}s between quorum peers over TCP: one length-framed connection per pair of servers, opened
 * by the server with the higher id (so two servers never race to keep two connections) and introduced by a hello frame
 * naming the caller. A frame that does not decode, a hello from an unknown id or from the wrong direction closes that
 * one connection with one log line. Sending to a peer that is not connected drops the message: Zab's sessions and
 * resends are built for a lossy channel.
 *
 * <p>Handshake: until a connection is established (the hello read and, with {@link QuorumAuth} SASL on, the peer
 * authenticated) its frames are bounded by {@link QuorumFrameDecoder#HANDSHAKE_FRAME_BYTES_MAX}, it is not a send
 * target, and it must finish within {@link #HANDSHAKE_TIMEOUT_MS}. A peer that fails a required authentication is
 * closed there. With quorum authentication on, a forwarded request ({@link ZabMessage.Request}, which carries the
 * client's auth ids) is accepted only over a connection whose peer authenticated: an unauthenticated peer allowed in
 * by the non-required mode can vote and sync, but cannot make the leader act on auth ids it merely asserts. With
 * {@link QuorumTls} (sslQuorum) every connection first completes mutual TLS; the dialler says hello only after it.
 */
public final class QuorumTransport implements Closeable, ZabNetwork {
    private static final Logger LOG = System.getLogger(QuorumTransport.class.getName());

    /**
     * Largest frame accepted. A DIFF's SYNC frames carry at most about 1 MiB of transactions (more when one transaction
     * is larger) and a snapshot travels in chunks ({@link SnapshotStreams}), so no frame grows with the tree.
     */
    public static final int FRAME_BYTES_MAX_DEFAULT = 64 << 20;
    /** Pause between attempts to reach a peer that is down. */
    public static final long RECONNECT_DELAY_MS = 250;
    public static final int CONNECT_TIMEOUT_MS = 2_000;
    /** Time from connecting to an established connection (hello and authentication) before it is closed. */
    public static final long HANDSHAKE_TIMEOUT_MS = 5_000;

    /**
     * One {@code server.N=host:quorumPort:electionPort[:observer]} line. All peer traffic (election notifications
     * included) uses quorumPort; electionPort (-1 when the line omits it) is validated but not listened on: see
     * server/README.md, "Ensemble", for why. {@code observer} is true for a non-voting member.
     */
    public record Peer(int id, String host, int quorumPort, int electionPort, boolean observer) {
        /** A voting member's line. */
        public Peer(int id, String host, int quorumPort, int electionPort) {
            this(id, host, quorumPort, electionPort, false);
        }

        /** {@link QuorumPeers#parseLine}: one server line, checked as Apache checks it. */
        public static Peer parse(int id, String value) {
            return QuorumPeers.parseLine(id, value);
        }

        /** {@link QuorumPeers#clientAddress}: the client part of a server line, or null. */
        public static String[] clientAddress(int id, String value) {
            return QuorumPeers.clientAddress(id, value);
        }
    }

    /** Reads every {@code server.N} key of a zoo.cfg-style map ({@link QuorumPeers#parse}). */
    public static Map<Integer, Peer> parsePeers(Map<String, String> settings) {
        return QuorumPeers.parse(settings);
    }

    /** Receives decoded messages on a Netty event loop; it must hand them off and return at once. */
    @FunctionalInterface
    public interface Inbound {
        void onMessage(int from, ZabMessage message);

        /** The connection with {@code peer} closed (it is redialled or awaited); called on a Netty event loop. */
        default void onDisconnected(int peer) {
        }

        /**
         * A connection with {@code peer} is up (dialled, or accepted with a valid hello); messages sent to it before
         * were dropped. Called on a Netty event loop.
         */
        default void onConnected(int peer) {
        }
    }

    private final int myId;
    /** The members: replaced whole by {@link #changeMembers} (a committed reconfig), read by any event loop. */
    private volatile Map<Integer, Peer> peers;
    /**
     * The configuration does not name this member (a joiner, or removed by a reconfig): it dials every member it
     * knows, whatever their ids, because they do not know it and would never dial it.
     */
    private volatile boolean stranger;
    /**
     * Connections at a time from servers the configuration does not name (removed ones following on, joiners started
     * before the reconfig that adds them); more are closed at once.
     */
    static final int STRANGER_CONNECTIONS_MAX = 8;
    private final Inbound inbound;
    private final int frameBytesMax;
    /** Bytes queued per peer before its connection is closed ({@link QuorumOutbound}; tests lower it). */
    private volatile long queuedBytesMax = QuorumOutbound.QUEUED_BYTES_MAX_DEFAULT;
    private final QuorumAuth auth;
    /** sslQuorum's mutual TLS, or null for plain TCP. */
    private final QuorumTls tls;
    /** Reloads the quorum's stores when their files change (sslQuorumReloadCertFiles), or null. */
    private StoreFileWatcher storeWatcher;
    private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    private final Map<Integer, Channel> connections = new ConcurrentHashMap<>();
    /** Authentication trouble per member, warned about at most every 30 s. */
    final QuorumAuthWarnings authWarnings = new QuorumAuthWarnings();
    private volatile boolean closed;
    /** Inbound sockets, also those not yet identified, so that close() reaches each (see AcceptedChannels). */
    private final AcceptedChannels accepted = new AcceptedChannels();
    private Channel listener;
    /** A SNAP's snapshot in bounded chunks, both ways (set before {@link #start}, else a temporary directory). */
    private SnapshotStreams streams;
    /** Links cut by fault injection (none unless a test or the fault endpoint cuts one). */
    private volatile QuorumFaults faults = QuorumFaults.NONE;
    /** The heal a connection already waits on to close: one wait per connection and cut. */
    private static final io.netty.util.AttributeKey<CompletableFuture<Void>> CUT_HEAL =
            io.netty.util.AttributeKey.valueOf("tandem.quorum.cutHeal");

    public QuorumTransport(int myId, Map<Integer, Peer> peers, Inbound inbound) {
        this(myId, peers, inbound, FRAME_BYTES_MAX_DEFAULT);
    }

    public QuorumTransport(int myId, Map<Integer, Peer> peers, Inbound inbound, int frameBytesMax) {
        this(myId, peers, inbound, frameBytesMax, QuorumAuth.NONE);
    }

    /** {@code auth}: how peers prove who they are (Apache's quorum.auth.* settings). */
    public QuorumTransport(int myId, Map<Integer, Peer> peers, Inbound inbound, int frameBytesMax, QuorumAuth auth) {
        this(myId, peers, inbound, frameBytesMax, auth, null);
    }

    /** {@code tls}: mutual TLS on every quorum connection (Apache's sslQuorum), or null for plain TCP. */
    public QuorumTransport(int myId, Map<Integer, Peer> peers, Inbound inbound, int frameBytesMax, QuorumAuth auth,
                           QuorumTls tls) {
        this.auth = auth;
        this.tls = tls;
        if (!peers.containsKey(myId)) {
            throw new IllegalArgumentException("server." + myId + " is missing from the peer list " + peers.keySet());
        }
        this.myId = myId;
        this.peers = Map.copyOf(peers);
        this.inbound = inbound;
        this.frameBytesMax = frameBytesMax;
    }

    /**
     * Streams SNAP snapshots in chunks of {@code chunkBytes}, receiving them into {@code incomingDir} until Zab has
     * stored them; call before {@link #start}.
     */
    public QuorumTransport snapshotStreams(Path incomingDir, int chunkBytes) throws IOException {
        streams = new SnapshotStreams(myId, chunkBytes, incomingDir);
        return this;
    }

    /** Lowers (or raises) the bytes queued per peer before its connection is closed; tests use a small one. */
    QuorumTransport queuedBytesMax(long bytes) {
        Checks.require(bytes > 0, "queued bytes limit %d must be positive", bytes);
        queuedBytesMax = bytes;
        return this;
    }

    /** Snapshot chunks sent and received since start (diagnostics and tests). */
    public long snapshotChunksSent() {
        return streams == null ? 0 : streams.chunksSent();
    }

    public long snapshotChunksReceived() {
        return streams == null ? 0 : streams.chunksReceived();
    }

    // What each connection's handler ({@link QuorumConnection}) reads.
    int myId() { return myId; }
    Map<Integer, Peer> peers() { return peers; }
    QuorumAuth auth() { return auth; }
    QuorumTls tls() { return tls; }
    SnapshotStreams streams() { return streams; }
    Inbound inbound() { return inbound; }

    /** Binds the quorum port and starts calling every peer with a lower id. */
    public QuorumTransport start() throws InterruptedException {
        if (streams == null) {
            try {
                snapshotStreams(Files.createTempDirectory("tandem-zab-" + myId + "-incoming"),
                        SnapshotStreams.configuredChunkBytes());
            } catch (IOException e) {
                throw new UncheckedIOException("cannot create a directory for received snapshots", e);
            }
        }
        Peer me = peers.get(myId);
        try {
            bind(me);
            if (tls != null) storeWatcher = tls.watchStores(myId);
        } catch (IOException e) {
            close();
            throw new UncheckedIOException("server " + myId + ": cannot watch the quorum's key and trust stores", e);
        } catch (Throwable e) {
            close();
            throw e;
        }
        LOG.log(Level.INFO, "server {0}: quorum port {1,number,#}, peer authentication: {2}", myId, boundPort(),
                tls != null ? "mutual TLS" + (auth.saslEnabled() ? " and " + auth : "") : auth.saslEnabled() ? auth
                        : "none (quorum.auth.enableSasl and sslQuorum are off: any host that reaches this port with a "
                        + "member's id is trusted as that member, as in Apache's default)");
        for (int peer : peers.keySet()) {
            if (peer < myId) {
                connect(peer);
            }
        }
        return this;
    }

    private void bind(Peer me) throws InterruptedException {
        listener = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childOption(ChannelOption.MESSAGE_SIZE_ESTIMATOR, QuorumOutbound.SIZES)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel channel) {
                        if (accepted.admit(channel)) pipeline(channel, -1);
                    }
                })
                .bind(new InetSocketAddress(me.host(), me.quorumPort())).sync().channel();
    }

    public int boundPort() {
        return ((InetSocketAddress) listener.localAddress()).getPort();
    }

    /** Which links are cut (fault injection); {@link QuorumFaults#NONE} restores every one. */
    public void faults(QuorumFaults faults) {
        this.faults = faults == null ? QuorumFaults.NONE : faults;
    }

    /**
     * True while the link with {@code peer} is cut: the caller drops what it was about to send or deliver. The first
     * time a connection meets the cut it is set to close when the link heals, so both members redial afresh.
     */
    boolean cutOff(int peer, Channel channel) {
        CompletableFuture<Void> heal = faults.cut(peer);
        if (heal == null) return false;
        if (channel != null && channel.attr(CUT_HEAL).getAndSet(heal) != heal) heal.thenRun(channel::close);
        return true;
    }

    public boolean isConnected(int peer) {
        Channel channel = connections.get(peer);
        return channel != null && channel.isActive();
    }

    /** The registered connection with {@code peer}, or null ({@link LearnerFigures} reads its address and queue). */
    Channel connection(int peer) { return connections.get(peer); }

    /** Connections registered now, members' and strangers' (tests). */
    int connectedCount() {
        return connections.size();
    }

    /** Queues {@code message} for {@code to}; silently dropped when there is no connection. */
    public void send(int to, ZabMessage message) {
        Channel channel = connections.get(to);
        if (channel != null && channel.isActive() && !cutOff(to, channel)
                && !QuorumOutbound.overQueued(myId, to, channel, queuedBytesMax)
                && !streams.divert(channel, List.of(message))) {
            channel.writeAndFlush(message, channel.voidPromise());
        }
    }

    /** Bytes waiting for the socket of the connection with {@code peer} (0 without one); tests. */
    long queuedBytes(int peer) {
        Channel channel = connections.get(peer);
        return channel == null ? 0 : QuorumOutbound.queued(channel);
    }

    /**
     * Queues {@code messages} for {@code to} in order, as one task on the connection's event loop with one flush:
     * a leader's proposals and commits of one round cost one hand-off and one socket write per peer, not one per
     * message. Silently dropped when there is no connection.
     */
    public void send(int to, List<ZabMessage> messages) {
        if (messages.size() == 1) {
            send(to, messages.get(0));
            return;
        }
        Channel channel = connections.get(to);
        if (channel != null && channel.isActive() && !messages.isEmpty() && !cutOff(to, channel)
                && !QuorumOutbound.overQueued(myId, to, channel, queuedBytesMax)
                && !streams.divert(channel, messages)) {
            // All frames in one buffer: one pass down the pipeline and one buffer in the outbound queue; counted
            // in the connection's queued bytes from now on (QuorumOutbound.SIZES).
            channel.writeAndFlush(new QuorumOutbound.Batch(messages), channel.voidPromise());
        }
    }

    private void connect(int peer) {
        Peer address = peers.get(peer);
        if (closed || address == null || !dials(peer)) {
            return; // not a member (any more), or one that dials this member
        }
        Channel existing = connections.get(peer);
        if (existing != null && existing.isActive()) {
            // A redial scheduled when an older connection closed, which a newer one has replaced since: dialling
            // again would replace that one in turn, and so on every RECONNECT_DELAY_MS, each time losing what was
            // in flight (seen once a removed member rejoined).
            return;
        }
        if (cutOff(peer, null)) {
            scheduleReconnect(peer); // a dial into a partition fails; try again after the heal
            return;
        }
        ChannelFuture future = new Bootstrap().group(group).channel(NioSocketChannel.class)
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.MESSAGE_SIZE_ESTIMATOR, QuorumOutbound.SIZES)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, CONNECT_TIMEOUT_MS)
                .handler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel channel) {
                        pipeline(channel, peer);
                    }
                })
                .connect(address.host(), address.quorumPort());
        future.addListener(done -> {
            if (done.isSuccess()) {
                Channel channel = future.channel();
                channel.closeFuture().addListener(closedFuture -> scheduleReconnect(peer));
                if (tls == null) {
                    sayHello(channel);
                    return;
                }
                // Nothing is said before both members have shown trusted certificates.
                channel.pipeline().get(io.netty.handler.ssl.SslHandler.class).handshakeFuture().addListener(handshake -> {
                    if (handshake.isSuccess()) sayHello(channel);
                });
            } else {
                scheduleReconnect(peer);
            }
        });
    }

    /** The dialler's hello naming this member, then its side of authentication (or the connection is up). */
    private void sayHello(Channel channel) {
        ByteBuf hello = channel.alloc().buffer(17);
        int start = hello.writerIndex();
        hello.writeInt(0);
        ZabCodec.writeHello(hello, myId);
        hello.setInt(start, hello.writerIndex() - start - 4);
        channel.writeAndFlush(hello);
        channel.pipeline().get(QuorumConnection.class).dialled(channel);
    }

    private void scheduleReconnect(int peer) {
        if (!closed) {
            group.schedule(() -> connect(peer), RECONNECT_DELAY_MS, TimeUnit.MILLISECONDS);
        }
    }

    void register(int peer, Channel channel, boolean dialled) {
        Channel previous = connections.put(peer, channel);
        if (previous != null && previous != channel) {
            previous.close();
        }
        channel.closeFuture().addListener(done -> {
            // Only the registered channel's loss counts: one replaced by a newer connection is not a disconnect.
            if (connections.remove(peer, channel) && !closed) {
                inbound.onDisconnected(peer);
            }
            // An accepted connection from a server this member dials now: a lower id that dialled as a stranger and was
            // named again since (see changeMembers), or, while this member is outside the configuration, a higher id that no longer
            // knows it. The other side does not dial again, so this one does.
            if (!dialled && dials(peer) && peers.containsKey(peer) && !connections.containsKey(peer)) {
                scheduleReconnect(peer);
            }
        });
        if (!closed) {
            inbound.onConnected(peer);
        }
    }

    private void pipeline(SocketChannel channel, int knownPeer) {
        Peer dialled = knownPeer < 0 ? null : peers.get(knownPeer);
        if (knownPeer >= 0 && dialled == null) {
            channel.close(); // removed by a reconfig while being dialled
            return;
        }
        QuorumFrameDecoder decoder = new QuorumFrameDecoder(frameBytesMax);
        if (tls != null) {
            channel.pipeline().addLast(knownPeer < 0 ? tls.acceptorHandler(channel.alloc())
                    : tls.diallerHandler(dialled.host(), dialled.quorumPort()));
        }
        channel.pipeline()
                .addLast(decoder)
                .addLast(new QuorumOutbound.Encoder())
                .addLast(new QuorumConnection(this, knownPeer, decoder));
    }

    /**
     * A committed reconfig changed the members to {@code members} (this server's own line, as it is bound, is kept
     * whatever the configuration prints for it: the running listener cannot move): a new
     * member with a lower id is dialled unless it is connected already (one with a higher id dials this one, and is
     * accepted from now on), and a removed member is never dialled again; its connection stays open (Apache's leader
     * keeps a removed follower's LearnerHandler: it follows on as a non-voter), and from now on what it sends over it,
     * or over its own later dials, is taken as a stranger's ({@link #acceptsStranger}: notifications and a learner's
     * messages; kept connections count towards {@link #STRANGER_CONNECTIONS_MAX} from then on, and their number is
     * bounded by the members configurations named). Thread-safe; the Zab thread
     * calls it after the state machine took the same change, so a new member's first messages are not dropped.
     */
    public void changeMembers(Map<Integer, Peer> members) {
        Map<Integer, Peer> previous = peers;
        Map<Integer, Peer> next = new TreeMap<>(members);
        next.put(myId, previous.get(myId));
        peers = Map.copyOf(next);
        for (int id : previous.keySet()) {
            if (id != myId && !members.containsKey(id)) {
                LOG.log(Level.INFO, "server {0}: server {1} left the ensemble; its connection, if any, now carries a"
                        + " non-member's messages only", myId, id);
            }
        }
        for (int id : members.keySet()) {
            if (id != myId && !previous.containsKey(id)) {
                LOG.log(Level.INFO, "server {0}: server {1} joined the ensemble", myId, id);
                // A server that asked as a stranger keeps the connection it dialled: replacing it would break the
                // Zab session it may already be opening over it (it is dialled back once that connection closes).
                if (id < myId && listener != null && !isConnected(id)) {
                    connect(id);
                }
            }
        }
    }

    /** Whether this member is the one to dial {@code peer}: the higher id dials, and a joiner dials everyone. */
    private boolean dials(int peer) {
        return peer < myId || stranger;
    }

    /**
     * The active configuration does not name this member ({@code true}: a joiner, or a member a reconfig removed), or
     * names it ({@code false}). While outside it dials every member it knows, since none of them dials a server their
     * configuration does not name, and they accept it as a stranger (notifications and a learner's messages). Named,
     * it dials the lower ids again, as any member.
     */
    public void asStranger(boolean outside) {
        if (stranger == outside) {
            return;
        }
        stranger = outside;
        if (outside && listener != null) {
            for (int id : peers.keySet()) {
                if (id > myId && !connections.containsKey(id)) {
                    connect(id);
                }
            }
        }
    }

    /**
     * Whether a connection from server {@code id}, which the configuration does not name, may stay: Apache's election
     * port takes a connection from any server id, and a notification from a server it does not know is answered with
     * its configuration, which is how a joiner learns whom to follow. With mutual TLS too, as Apache's
     * quorum TLS takes any server id with a trusted certificate: a stranger's certificate is checked against the
     * address it dials from, having no server line ({@code QuorumConnection}). At most
     * {@link #STRANGER_CONNECTIONS_MAX} at a time.
     */
    boolean acceptsStranger(int id) {
        if (closed) {
            return false;
        }
        Map<Integer, Peer> members = peers;
        return connections.keySet().stream().filter(peer -> !members.containsKey(peer)).count()
                < STRANGER_CONNECTIONS_MAX;
    }


    @Override
    public void close() {
        closed = true;
        if (storeWatcher != null) {
            storeWatcher.close();
        }
        if (listener != null) {
            listener.close().syncUninterruptibly();
        }
        connections.values().forEach(Channel::close);
        accepted.close();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        if (streams != null) {
            streams.close();
        }
    }
}
