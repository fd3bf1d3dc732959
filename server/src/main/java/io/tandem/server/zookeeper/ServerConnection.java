package io.tandem.server.zookeeper;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.tandem.server.FatalErrors;
import io.tandem.zk.wire.FourLetterWord;
import io.tandem.zk.wire.JuteInput;
import io.tandem.zk.wire.JuteLimits;
import io.tandem.zk.wire.JuteRecord;
import io.tandem.zk.wire.KeeperCode;
import io.tandem.zk.wire.OpCode;
import io.tandem.zk.wire.Perms;
import io.tandem.zk.wire.Xids;
import io.tandem.zk.wire.data.Id;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import io.tandem.zk.wire.proto.AuthPacket;
import io.tandem.zk.wire.proto.GetSASLRequest;
import io.tandem.zk.wire.proto.SetSASLResponse;
import io.tandem.zk.wire.proto.ConnectRequest;
import io.tandem.zk.wire.proto.ConnectResponse;
import io.tandem.zk.wire.proto.ReplyHeader;
import io.tandem.zk.wire.proto.RequestHeader;
import io.tandem.zk.wire.proto.WatcherEvent;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.security.cert.Certificate;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.security.sasl.SaslException;
import java.util.ArrayDeque;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;

/**
 * One client connection: decodes frames into requests for the commit thread (on its Netty event loop), answers auth
 * packets at once as Apache does, and writes replies and watch events handed to it by the commit thread (framed and
 * batched by its {@link ReplyWriter}). A malformed frame closes this connection only, with one log line.
 */
final class ServerConnection extends ChannelInboundHandlerAdapter implements Watcher {
    private static final Logger LOG = System.getLogger(ServerConnection.class.getName());
    private final ZkServer server;
    private final Channel channel;
    private final int fieldBytesMax;
    /** The ids this connection is authenticated as; ip:address from the start, digest ids after addauth. */
    /** What this connection has authenticated as ({@link #authInfo} is its live list of ids). */
    private final ConnectionAuth auth;
    final CopyOnWriteArrayList<Id> authInfo;
    volatile long sessionId;
    volatile Session session;
    private volatile boolean connectReceived;
    private volatile boolean readOnlyEchoed;
    /** Set by the commit thread before it answers the handshake of a member in read-only mode. */
    volatile boolean readOnlyServer;
    private volatile boolean closing;
    /** Admitted under maxClientCnxns: counted for its address until it closes. */
    private InetAddress admittedAddress;
    private final ReadGate gate;
    /** Frames decoded while the gate was closed, handled in order once it opens (event loop only). */
    private final ArrayDeque<ByteBuf> held = new ArrayDeque<>();
    /** {@link #drainHeld} is running (event loop). */
    private boolean draining;
    /** The frame an injected fault delays, and what follows its delay (event loop only). */
    private ByteBuf faultDelayed;
    private ZkFaults.Verdict faultVerdict;
    /** Closes the connection if no ConnectRequest arrives in time (event loop only). */
    private ScheduledFuture<?> handshakeTimer;

    // Statistics for cons/stat, written by the commit thread.
    final long connectedMillis = System.currentTimeMillis();
    final AtomicLong packetsReceived = new AtomicLong();
    final AtomicLong packetsSent = new AtomicLong();
    /** Standalone: this connection's requests waiting for the log sync (commit thread only). */
    int unsyncedRequests;
    volatile int lastCxid = -1;
    volatile long lastZxid = -1;
    volatile int lastOp = Integer.MIN_VALUE;
    volatile long lastResponseMillis;
    volatile long lastLatencyMs;
    private long latencyMinMs = Long.MAX_VALUE;
    private long latencyMaxMs;
    private long latencyTotalMs;
    private long latencyCount;
    /** Frames the replies and events, batched per connection off the event loop. */
    private final ReplyWriter replies;
    private final long openOrder;

    ServerConnection(ZkServer server, Channel channel) {
        this.server = server;
        this.openOrder = server.listener.nextOpenOrder();
        this.channel = channel;
        this.fieldBytesMax = JuteLimits.fieldBytesMax(server.config.frameBytesMax(), server.config.frameBytesMax());
        this.gate = new ReadGate(channel, server.outstanding, server.globalOutstandingLimit(), this::drainHeld);
        // The listener adds its TLS handler ("tls") before any byte is read, so the first SASL packet sees it.
        this.auth = new ConnectionAuth(server, channel::remoteAddress, () -> channel.pipeline().get("tls") != null);
        this.authInfo = auth.ids;
        this.replies = new ReplyWriter(server, channel, () -> closing, packetsSent, this::closeForUnsentReplies,
                server.listener::unsentBytes);
    }

    /** Where this connection sits in the listener's set of open connections (ClientListener.connections). */
    long openOrder() {
        return openOrder;
    }

    SocketAddress remoteAddress() {
        return channel.remoteAddress();
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        if (channel.remoteAddress() instanceof InetSocketAddress address && address.getAddress() != null) {
            authInfo.add(new Id("ip", address.getAddress().getHostAddress()));
            if (!server.listener.admit(address.getAddress())) {
                int max = server.config.maxClientConnections();
                LOG.log(Level.WARNING, () -> "Too many connections from " + address.getAddress() + " - max is " + max);
                closing = true;
                channel.close();
                return;
            }
            admittedAddress = address.getAddress();
        }
        server.listener.opened(this);
        long timeoutMs = server.config.handshakeTimeoutMs();
        handshakeTimer = channel.eventLoop().schedule(() -> {
            if (!connectReceived && !closing) {
                LOG.log(Level.INFO, () -> "Closing ZooKeeper connection from " + channel.remoteAddress() + ": no ConnectRequest "
                        + "within " + timeoutMs + " ms (zookeeper.nio.sessionlessCnxnTimeout)");
                closeNow();
            }
        }, timeoutMs, TimeUnit.MILLISECONDS);
        ctx.fireChannelActive();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        closing = true;
        cancelHandshakeTimer();
        if (admittedAddress != null) {
            server.listener.leave(admittedAddress);
        }
        gate.release();
        auth.dispose();
        releaseHeld();
        replies.release();
        server.listener.closed(this);
        ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        FatalErrors.check(cause);
        if (closing) {
            return; // the writes a close cut short fail here one by one: the close was logged once already
        }
        LOG.log(Level.INFO, () -> "Closing ZooKeeper connection from " + channel.remoteAddress() + " (session 0x"
                + Long.toHexString(sessionId) + "): " + cause);
        closeNow();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object message) {
        if (message instanceof FourLetterWord word) {
            cancelHandshakeTimer(); // answered, then closed
            FourLetterWords.answer(server, channel, word);
            return;
        }
        ByteBuf frame = (ByteBuf) message;
        if (!closing && (!gate.isOpen() || !held.isEmpty())) {
            // Paused: the rest of this socket read waits, as Apache keeps it in its queued buffer.
            held.add(frame);
            return;
        }
        handle(frame);
    }

    private void cancelHandshakeTimer() {
        if (handshakeTimer != null) {
            handshakeTimer.cancel(false);
        }
    }

    /**
     * Handles the frames held while the gate was closed, until it closes again (event loop). Not re-entered: handling
     * a held frame counts it in the gate, and if the commit thread reopens the gate at that moment the gate runs this
     * again from inside that count, which would hand the next held frame to the commit thread before the one being
     * handled, and the client would get their answers out of order. The loop running already takes the next frame.
     */
    private void drainHeld() {
        if (draining) {
            return;
        }
        draining = true;
        try {
            while (gate.isOpen() && !held.isEmpty() && !closing) {
                handle(held.poll());
            }
        } finally {
            draining = false;
        }
        if (closing) {
            releaseHeld();
        }
    }

    private void releaseHeld() {
        ByteBuf frame;
        while ((frame = held.poll()) != null) {
            frame.release();
        }
    }

    private void handle(ByteBuf frame) {
        try {
            if (!closing && !(connectReceived && (frame == faultDelayed || server.faults.armed())
                    && injectFault(frame))) {
                handleFrame(frame);
            }
        } catch (RuntimeException e) {
            LOG.log(Level.INFO, () -> "Closing ZooKeeper connection from " + channel.remoteAddress() + " (session 0x"
                    + Long.toHexString(sessionId) + "): malformed request: " + e.getMessage());
            closeNow();
        } finally {
            frame.release();
        }
    }

    /**
     * Applies an injected fault ({@link ZkFaults}) to a request; true when it took the frame. A delayed frame goes back
     * in front of the held ones with reading paused, so it and everything after it keep their order (event loop).
     */
    private boolean injectFault(ByteBuf frame) {
        ZkFaults.Verdict verdict = faultVerdict;
        if (frame == faultDelayed) {
            faultDelayed = null;
        } else {
            verdict = frame.readableBytes() < 8 ? null : server.faults.intercept(frame.getInt(frame.readerIndex() + 4));
            if (verdict == null) return false;
            if (verdict.after() != null) {
                faultDelayed = frame.retain();
                faultVerdict = verdict;
                held.addFirst(frame);
                gate.pause(ReadGate.FAULT);
                verdict.after().thenRunAsync(() -> gate.resume(ReadGate.FAULT), channel.eventLoop());
                return true;
            }
        }
        if (verdict.drop()) {
            LOG.log(Level.INFO, () -> "Closing ZooKeeper connection from " + channel.remoteAddress() + ": an injected fault");
            closeNow();
            return true;
        }
        if (verdict.error() == null) return false;
        submit(new Request(this, 0, frame.getInt(frame.readerIndex()), Request.KIND_FAULT, verdict.error()),
                frame.readableBytes());
        return true;
    }

    private void handleFrame(ByteBuf frame) {
        int bytes = frame.readableBytes();
        JuteInput in = new JuteInput(frame, fieldBytesMax);
        server.stats.packetsReceived.incrementAndGet();
        server.stats.bytesReceived.addAndGet(bytes + 4L);
        packetsReceived.incrementAndGet();
        if (!connectReceived) {
            ConnectRequest connect = ConnectRequest.read(in);
            connectReceived = true;
            cancelHandshakeTimer();
            readOnlyEchoed = connect.readOnly() != null;
            // No packets until the session is settled, as Apache's disableRecv.
            gate.pause(ReadGate.HANDSHAKE);
            submit(new Request(this, connect.sessionId(), 0, Request.KIND_CONNECT, connect), bytes);
            return;
        }
        RequestHeader header = RequestHeader.read(in);
        Session current = session;
        if (current != null) {
            current.touch();
        }
        int type = header.type();
        if (type == OpCode.AUTH) {
            handleAuth(header.xid(), AuthPacket.read(in));
            return;
        }
        if (type == OpCode.SASL) {
            handleSasl(header.xid(), GetSASLRequest.read(in));
            return;
        }
        if (!auth.admitted()) {
            // enforce.auth.enabled: Apache's AuthenticationHelper answers and closes the connection.
            LOG.log(Level.INFO, () -> "Closing ZooKeeper connection from " + channel.remoteAddress() + ": it has not "
                    + "authenticated with any of " + server.security.enforcedSchemes + " (enforce.auth.schemes)");
            sendNow(header.xid(), 0, KeeperCode.SESSION_CLOSED_REQUIRE_SASL_AUTH.code(), null);
            closeAfterFlush();
            return;
        }
        Object body = RequestBodies.decode(type, in);
        boolean unknown = body == RequestBodies.UNKNOWN;
        submit(new Request(this, 0, header.xid(), unknown ? Request.KIND_UNKNOWN : type, unknown ? null : body),
                bytes);
    }

    private void submit(Request request, int bytes) {
        request.bytes = bytes;
        // Counted before the commit thread can see it, so its answer never comes before its count.
        gate.queued(bytes);
        if (!server.submit(request)) {
            LOG.log(Level.WARNING, () -> "Closing ZooKeeper connection from " + channel.remoteAddress()
                    + ": the server's request queue is full (" + ZkServer.QUEUE_REQUESTS_MAX + ")");
            closeNow(); // the gate's counts go when the channel is inactive
        }
    }

    /**
     * One SASL token (opcode 102), answered at once as Apache's processSasl: the server's token when it goes on or
     * succeeds, AUTHFAILED (or SESSIONCLOSEDREQUIRESASLAUTH when SASL is enforced) and the connection closed when it
     * fails.
     */
    private void handleSasl(int xid, GetSASLRequest request) {
        byte[] reply;
        try {
            reply = auth.sasl(request.token(), sessionId);
        } catch (SaslException e) {
            LOG.log(Level.INFO, () -> "Client " + channel.remoteAddress() + " failed to SASL authenticate: " + e.getMessage());
            int error = server.security.enforcedSchemes.contains("sasl")
                    ? KeeperCode.SESSION_CLOSED_REQUIRE_SASL_AUTH.code() : KeeperCode.AUTH_FAILED.code();
            sendNow(xid, 0, error, new SetSASLResponse(null));
            closeAfterFlush();
            return;
        }
        sendNow(xid, 0, KeeperCode.OK.code(), new SetSASLResponse(reply));
    }

    /**
     * The TLS handshake of the secure port is done: a client certificate becomes an {@code x509} id
     * ({@link ConnectionAuth#certificate}). A failed handshake closes the connection with one log line.
     */
    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object event) {
        if (event instanceof SslHandshakeCompletionEvent done) {
            if (!done.isSuccess()) {
                LOG.log(Level.INFO, () -> "Closing ZooKeeper connection from " + channel.remoteAddress()
                        + ": TLS handshake failed: " + done.cause());
                closeNow();
                return;
            }
            Certificate[] chain;
            try {
                chain = ctx.pipeline().get(SslHandler.class).engine().getSession().getPeerCertificates();
            } catch (SSLPeerUnverifiedException e) {
                chain = null;
            }
            if (!auth.certificate(chain)) {
                closeNow();
                return;
            }
        }
        ctx.fireUserEventTriggered(event);
    }

    private void handleAuth(int xid, AuthPacket packet) {
        String scheme = packet.scheme();
        if (auth.addauth(packet)) {
            LOG.log(Level.DEBUG, () -> "Session 0x" + Long.toHexString(sessionId) + ": auth success for scheme " + scheme);
            sendNow(xid, 0, KeeperCode.OK.code(), null);
        } else {
            LOG.log(Level.INFO, () -> "Authentication failed for scheme " + scheme + " from " + channel.remoteAddress());
            sendNow(xid, 0, KeeperCode.AUTH_FAILED.code(), null);
            closeAfterFlush();
        }
    }

    // ---------------------------------------------------------------- called by the commit thread

    /** Answers the handshake {@code connect} with the settled session; the connection is read again. */
    void sessionEstablished(Session established, Request connect) {
        session = established;
        sessionId = established.id;
        writeFrame(new ConnectResponse(0, connect.negotiatedTimeout, established.id, Session.password(established.id),
                readOnlyEchoed ? Boolean.valueOf(readOnlyServer) : null));
        gate.answered(connect.bytes);
        gate.resume(ReadGate.HANDSHAKE);
    }

    /** Expired or unknown session, or wrong password: Apache answers with timeout 0 and id 0, then closes. */
    void sessionRefused() {
        writeFrame(new ConnectResponse(0, 0, 0, new byte[Session.PASSWORD_BYTES],
                readOnlyEchoed ? Boolean.valueOf(readOnlyServer) : null));
        closeAfterFlush();
    }

    void send(int xid, long zxid, int err, JuteRecord body) {
        writeFrame(out -> {
            new ReplyHeader(xid, zxid, err).write(out);
            if (body != null) {
                body.write(out);
            }
        });
    }

    /** {@code request} has been answered; {@code zxid} is the zxid its reply reported. */
    void requestDone(Request request, long zxid) {
        if (request.xid >= 0) {
            lastCxid = request.xid;
        }
        lastZxid = zxid;
        lastOp = request.type;
        long now = System.currentTimeMillis();
        long latency = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - request.receivedNanos);
        lastResponseMillis = now;
        lastLatencyMs = latency;
        latencyMinMs = Math.min(latencyMinMs, latency);
        latencyMaxMs = Math.max(latencyMaxMs, latency);
        latencyTotalMs += latency;
        latencyCount++;
        gate.answered(request.bytes);
    }

    long[] latency() {
        return new long[] {latencyCount == 0 ? 0 : latencyMinMs, latencyCount == 0 ? 0 : latencyTotalMs / latencyCount,
                latencyMaxMs};
    }

    void resetStats() {
        packetsReceived.set(0);
        packetsSent.set(0);
        latencyMinMs = Long.MAX_VALUE;
        latencyMaxMs = 0;
        latencyTotalMs = 0;
        latencyCount = 0;
    }

    /** Whether the socket is being read (Apache's interest_ops 1), or paused by the gate (0). */
    boolean isReading() {
        return channel.config().isAutoRead();
    }

    int inFlight() {
        return gate.inFlight();
    }

    @Override
    public void process(WatchedEvent event, List<io.tandem.zk.wire.data.ACL> nodeAcl) {
        try {
            Acls.check(nodeAcl, Perms.READ, authInfo);
        } catch (ZkException e) {
            return; // filtered by ACL, as Apache's ServerCnxn.process does
        }
        process(event);
    }

    @Override
    public void process(WatchedEvent event) {
        if (closing) {
            return;
        }
        send(Xids.NOTIFICATION, event.zxid(), 0,
                new WatcherEvent(event.type().code(), event.state().code(), event.path()));
        server.responder.markForFlush(this);
    }

    private void writeFrame(JuteRecord record) {
        replies.write(record);
    }

    private void sendNow(int xid, long zxid, int err, JuteRecord body) {
        send(xid, zxid, err, body);
        channel.flush();
    }

    boolean isClosed() {
        return closing;
    }

    void flush() {
        replies.flush();
    }

    void closeAfterFlush() {
        replies.flush(); // replies written before the close go out first
        closing = true;
        channel.writeAndFlush(io.netty.buffer.Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
    }

    /** Replies handed to the socket and not yet written. */
    long unsentBytes() {
        return replies.unsentOnChannel();
    }

    /** The client does not take its replies: it is closed before they use up the server's memory (see ReplyWriter). */
    private void closeForUnsentReplies(long unsentBytes) {
        long limit = replies.unsentBytesMax();
        LOG.log(Level.WARNING, () -> "Closing ZooKeeper connection from " + channel.remoteAddress() + " (session 0x"
                + Long.toHexString(sessionId) + "): " + unsentBytes + " bytes of replies not taken by the client, limit "
                + limit + " per connection and " + ReplyWriter.UNSENT_TOTAL_BYTES_MAX + " for all of them");
        closeNow();
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        // Past the channel's high water mark the client is not taking its replies: read no more requests from it
        // until they drain below the low mark, as a full queue stops reading on the Kafka port.
        if (channel.isWritable()) {
            gate.resume(ReadGate.UNSENT);
        } else {
            gate.pause(ReadGate.UNSENT);
        }
        ctx.fireChannelWritabilityChanged();
    }

    /**
     * A request of this connection would pass the watch limits ({@link WatchBytes}): closed, with one WARNING, after
     * the answers already written for its earlier requests (a write among them was applied; its answer goes out).
     */
    void closeForWatchLimit(WatchBytes.Exceeded overLimit) {
        LOG.log(Level.WARNING, () -> "Closing " + this + ": " + overLimit.getMessage());
        closeAfterFlush();
    }

    @Override
    public String toString() {
        return "ZooKeeper connection from " + channel.remoteAddress() + " (session 0x" + Long.toHexString(sessionId)
                + ")";
    }

    void closeNow() {
        closing = true; // before the release: a reply written after it sees the connection closing (ReplyWriter)
        replies.release();
        channel.close();
    }
}
