package io.tandem.server.zab;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.tandem.server.FatalErrors;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.util.concurrent.TimeUnit;

/**
 * One quorum connection's inbound side, for {@link QuorumTransport}: the hello, authentication, then Zab frames handed
 * to the transport's {@link QuorumTransport.Inbound}. On an accepted connection the first frame must be a valid hello from a higher known id; with
 * quorum SASL on, AUTH frames follow in both directions until the exchange ends (the dialler is the SASL client,
 * the acceptor the server), and only then is the connection registered and its frame limit lifted. A Kerberos
 * side's steps run on {@link QuorumKerberos#tokens()} (a learner's first one calls the KDC) and continue here on the
 * event loop; the exchange is lockstep, so a frame from the peer while a step is pending is a protocol error.
 */
final class QuorumConnection extends SimpleChannelInboundHandler<ByteBuf> {
    /** Under the transport's name: operators see one component for everything on the quorum port. */
    private static final Logger LOG = System.getLogger(QuorumTransport.class.getName());

    private final QuorumTransport transport;
    private final int myId;
    private final QuorumAuth auth;
    private final QuorumFrameDecoder decoder;
    private int peer;
    private boolean dialler;
    private boolean established;
    private boolean authenticated;
    private boolean refusedRequestLogged;
    private javax.security.sasl.SaslClient learner;
    private javax.security.sasl.SaslServer server;
    /** A SASL step is running on the token pool: the exchange's objects are the pool's until it reports back. */
    private boolean pending;
    /** This connection's snapshot receiving side, once established. */
    private SnapshotStreams.Receiving receiving;

    QuorumConnection(QuorumTransport transport, int knownPeer, QuorumFrameDecoder decoder) {
        this.transport = transport;
        this.myId = transport.myId();
        this.auth = transport.auth();
        this.peer = knownPeer;
        this.decoder = decoder;
    }

    @Override
    public void channelActive(ChannelHandlerContext context) throws Exception {
        Channel channel = context.channel();
        channel.eventLoop().schedule(() -> {
            if (!established && channel.isActive()) {
                LOG.log(Level.WARNING, "server {0}: closing quorum connection with {1} ({2}): no {3} within {4} ms",
                        myId, peer < 0 ? "unidentified peer" : "server " + peer, channel.remoteAddress(),
                        auth.saslEnabled() ? "authentication" : "hello", QuorumTransport.HANDSHAKE_TIMEOUT_MS);
                channel.close();
            }
        }, QuorumTransport.HANDSHAKE_TIMEOUT_MS, TimeUnit.MILLISECONDS);
        super.channelActive(context);
    }

    /** This side dialled {@code peer} and sent its hello: authenticate, or start at once without SASL. */
    void dialled(Channel channel) {
        dialler = true;
        if (!auth.saslEnabled()) {
            establish(channel, false);
            return;
        }
        QuorumTransport.Peer dialledPeer = transport.peers().get(peer);
        String host = dialledPeer != null ? dialledPeer.host()
                : ((java.net.InetSocketAddress) channel.remoteAddress()).getHostString();
        step(channel, auth.kerberosLearner(), () -> {
            learner = auth.newLearner(host);
            return learner.hasInitialResponse() ? auth.evaluate(learner, new byte[0]) : new byte[0];
        }, first -> channel.writeAndFlush(authFrame(channel, QuorumAuth.Status.CONTINUE, first)),
                e -> learnerFailed(channel, e.getMessage()));
    }

    /** One SASL computation of this exchange, and what to do with its token (or its failure) on the event loop. */
    private interface SaslStep {
        byte[] run() throws javax.security.sasl.SaslException;
    }

    private interface SaslThen {
        void accept(byte[] token) throws javax.security.sasl.SaslException;
    }

    /**
     * Runs {@code step} here, or, {@code offLoop} (a Kerberos side), on the token pool and continues on this
     * channel's event loop; {@code then} or {@code failed} runs on the event loop either way.
     */
    private void step(Channel channel, boolean offLoop, SaslStep step, SaslThen then,
                      java.util.function.Consumer<javax.security.sasl.SaslException> failed) {
        if (!offLoop) {
            try {
                then.accept(step.run());
            } catch (javax.security.sasl.SaslException e) {
                failed.accept(e);
            }
            return;
        }
        pending = true;
        try {
            QuorumKerberos.tokens().execute(() -> {
                byte[] token = null;
                javax.security.sasl.SaslException error = null;
                try {
                    token = step.run();
                } catch (javax.security.sasl.SaslException e) {
                    error = e;
                } catch (RuntimeException e) {
                    error = new javax.security.sasl.SaslException(e.toString(), e);
                }
                byte[] result = token;
                javax.security.sasl.SaslException failure = error;
                try {
                    channel.eventLoop().execute(() -> {
                        pending = false;
                        if (!channel.isActive()) {
                            disposeSasl(); // closed while the step ran
                            return;
                        }
                        if (failure != null) {
                            failed.accept(failure);
                            return;
                        }
                        try {
                            then.accept(result);
                        } catch (javax.security.sasl.SaslException e) {
                            failed.accept(e);
                        }
                    });
                } catch (java.util.concurrent.RejectedExecutionException shutDown) {
                    // The transport is closing: its channels go with it.
                }
            });
        } catch (java.util.concurrent.RejectedExecutionException e) {
            pending = false;
            failed.accept(new javax.security.sasl.SaslException("no thread free for a Kerberos step (the KDC is slow"
                    + " or unreachable)"));
        }
    }

    private void establish(Channel channel, boolean authenticatedPeer) {
        established = true;
        authenticated = authenticatedPeer;
        disposeSasl();
        decoder.established();
        receiving = transport.streams().new Receiving(channel, transport.inbound()::onMessage);
        transport.register(peer, channel, dialler);
    }

    private static String remoteHost(ChannelHandlerContext context) {
        return context.channel().remoteAddress() instanceof java.net.InetSocketAddress address
                && address.getAddress() != null ? address.getAddress().getHostAddress() : "";
    }

    @Override
    protected void channelRead0(ChannelHandlerContext context, ByteBuf frame) {
        if (peer < 0) {
            ZabCodec.Hello hello = ZabCodec.readHello(frame);
            int id = hello.serverId();
            boolean member = transport.peers().containsKey(id);
            if (member ? id <= myId : id == myId || !transport.acceptsStranger(id)) {
                LOG.log(Level.WARNING, "server {0}: closing quorum connection from {1}: {2} server id {3}",
                        myId, context.channel().remoteAddress(), member ? "wrong-direction" : "unknown", id);
                context.close();
                return;
            }
            if (transport.tls() != null) {
                // A member's certificate must name its server line's host. A stranger has no line: its certificate
                // must name the address it dials from, as Apache's ZKTrustManager checks a client (by IP address
                // only here: the reverse lookup Apache tries next would block the event loop).
                String host = member ? transport.peers().get(id).host() : remoteHost(context);
                String refusal = transport.tls().checkDialler(context.pipeline().get(io.netty.handler.ssl.SslHandler.class)
                        .engine(), host);
                if (refusal != null) {
                    transport.authWarnings.warn(id, "server {0}: closing quorum connection from {1} claiming to be server {2}: {3}",
                            myId, context.channel().remoteAddress(), id, refusal);
                    context.close();
                    return;
                }
            }
            if (transport.cutOff(id, null)) {
                context.close(); // a partition lets no new connection through
                return;
            }
            peer = id;
            if (!auth.saslEnabled()) establish(context.channel(), false);
            return;
        }
        if (!established) {
            if (dialler ? learnerStep(context.channel(), frame) : serverStep(context.channel(), frame)) return;
            if (!established) return;
        }
        if (transport.cutOff(peer, context.channel())) return; // lost in the partition
        if (!transport.peers().containsKey(peer)) {
            // A stranger (see QuorumTransport.acceptsStranger) may ask (its notifications are answered) and, as a
            // joiner, speak as a learner (Apache's leader syncs any server that connects as one, its acks counting
            // for nothing until a reconfig names it); anything else (a snapshot stream above all, or a leader's
            // messages) would be a member's business.
            ZabMessage message = ZabCodec.read(frame);
            if (!(message instanceof ZabMessage.Notification) && !isLearnerMessage(message)) {
                LOG.log(Level.WARNING, "server {0}: closing quorum connection from {1}: server {2} is no member and"
                        + " sent a {3}", myId, context.channel().remoteAddress(), peer,
                        message.getClass().getSimpleName());
                context.close();
                return;
            }
            if (message instanceof ZabMessage.Request && auth.saslEnabled() && !authenticated) {
                return; // as a member's: its auth ids would be this peer's word alone
            }
            transport.inbound().onMessage(peer, message);
            return;
        }
        if (receiving.onFrame(peer, frame)) {
            return; // a piece of a snapshot being received
        }
        ZabMessage message = ZabCodec.read(frame);
        if (message instanceof ZabMessage.Request && auth.saslEnabled() && !authenticated) {
            // Its auth ids would be this peer's word alone: the leader must never act on them.
            if (!refusedRequestLogged) {
                refusedRequestLogged = true;
                LOG.log(Level.WARNING, "server {0}: dropping forwarded requests from server {1} ({2}): it did not"
                        + " authenticate", myId, peer, context.channel().remoteAddress());
            }
            return;
        }
        if (receiving.onMessage(peer, message)) {
            return; // a SYNC announcing a snapshot, or a message that must wait behind one
        }
        transport.inbound().onMessage(peer, message);
    }

    /**
     * The acceptor's side of the exchange; true when the frame was an AUTH frame (consumed). A Zab frame before
     * authentication either ends the connection (serverRequireSasl) or makes it an unauthenticated one.
     */
    private boolean serverStep(Channel channel, ByteBuf frame) {
        if (pending) {
            refuse(channel, "it sent a frame before this member answered its last authentication step");
            return true;
        }
        if (!QuorumAuth.isAuth(frame)) {
            if (auth.serverRequiresSasl()) {
                refuse(channel, "it sent a message before authenticating and quorum.auth.serverRequireSasl is true");
            } else {
                transport.authWarnings.warn(peer, "server {0}: server {1} ({2}) did not authenticate; keeping the connection "
                        + "because quorum.auth.serverRequireSasl is false", myId, peer, channel.remoteAddress());
                establish(channel, false);
            }
            return false;
        }
        QuorumAuth.AuthFrame step = QuorumAuth.readAuth(frame);
        if (step.status() != QuorumAuth.Status.CONTINUE) {
            serverFailed(channel, new javax.security.sasl.SaslException("unexpected AUTH status " + step.status()
                    + " from the learner"));
            return true;
        }
        java.util.Set<String> memberHosts = new java.util.HashSet<>();
        transport.peers().values().forEach(member -> memberHosts.add(member.host()));
        step(channel, auth.kerberosServer(), () -> {
            if (server == null) server = auth.newServer(memberHosts);
            return server.evaluateResponse(step.token());
        }, challenge -> {
            if (server.isComplete()) {
                String user = server.getAuthorizationID();
                channel.writeAndFlush(authFrame(channel, QuorumAuth.Status.SUCCESS, challenge));
                LOG.log(Level.INFO, "server {0}: server {1} authenticated as {2}", myId, peer, user);
                transport.authWarnings.succeeded(peer);
                establish(channel, true);
            } else {
                channel.writeAndFlush(authFrame(channel, QuorumAuth.Status.CONTINUE, challenge));
            }
        }, e -> serverFailed(channel, e));
        return true;
    }

    private void serverFailed(Channel channel, javax.security.sasl.SaslException e) {
        channel.writeAndFlush(authFrame(channel, QuorumAuth.Status.ERROR, new byte[0]));
        if (auth.serverRequiresSasl()) {
            refuse(channel, "authentication failed: " + e.getMessage());
        } else {
            transport.authWarnings.warn(peer, "server {0}: server {1} ({2}) failed authentication ({3}); keeping the "
                    + "connection unauthenticated because quorum.auth.serverRequireSasl is false", myId, peer,
                    channel.remoteAddress(), e.getMessage());
            establish(channel, false);
        }
    }

    /** The dialler's side of the exchange; true when the frame was an AUTH frame (consumed). */
    private boolean learnerStep(Channel channel, ByteBuf frame) {
        if (pending) {
            refuse(channel, "it sent a frame before this member answered its last authentication step");
            return true;
        }
        if (!QuorumAuth.isAuth(frame)) {
            learnerFailed(channel, "it does not authenticate quorum peers (is quorum.auth.enableSasl set there?)");
            return false;
        }
        QuorumAuth.AuthFrame step = QuorumAuth.readAuth(frame);
        java.util.function.Consumer<javax.security.sasl.SaslException> failed =
                e -> learnerFailed(channel, "authentication failed: " + e.getMessage());
        switch (step.status()) {
            case CONTINUE -> step(channel, auth.kerberosLearner(), () -> auth.evaluate(learner, step.token()),
                    token -> channel.writeAndFlush(authFrame(channel, QuorumAuth.Status.CONTINUE, token)), failed);
            case SUCCESS -> {
                // Inline, never on the token pool: the server is established once it sent SUCCESS, and its Zab
                // frames may follow at once. DIGEST-MD5's last server token proves the server knows the password
                // too (local work); a GSSAPI learner completes before its server does, so nothing is left to compute.
                try {
                    if (!learner.isComplete() && !auth.kerberosLearner()) learner.evaluateChallenge(step.token());
                    if (!learner.isComplete()) throw new javax.security.sasl.SaslException("exchange not complete");
                    transport.authWarnings.succeeded(peer);
                    establish(channel, true);
                } catch (javax.security.sasl.SaslException e) {
                    failed.accept(e);
                }
            }
            case ERROR -> learnerFailed(channel, "it refused this member's credentials");
        }
        return true;
    }

    private void learnerFailed(Channel channel, String reason) {
        if (auth.learnerRequiresSasl()) {
            refuse(channel, reason);
        } else if (!established) {
            transport.authWarnings.warn(peer, "server {0}: quorum connection to server {1} is unauthenticated ({2}); kept "
                    + "because quorum.auth.learnerRequireSasl is false", myId, peer, reason);
            establish(channel, false);
        }
    }

    private void refuse(Channel channel, String reason) {
        transport.authWarnings.warn(peer, "server {0}: closing quorum connection with server {1} ({2}): {3}", myId, peer,
                channel.remoteAddress(), reason);
        disposeSasl();
        channel.close();
    }

    private void disposeSasl() {
        if (pending) return; // the pool still uses them: the step's continuation disposes of them
        try {
            if (learner != null) learner.dispose();
            if (server != null) server.dispose();
        } catch (javax.security.sasl.SaslException ignored) {
            // Nothing is held that outlives the exchange.
        }
        learner = null;
        server = null;
    }

    @Override
    public void channelInactive(ChannelHandlerContext context) throws Exception {
        disposeSasl();
        if (receiving != null) {
            receiving.closed();
        }
        super.channelInactive(context);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext context, Throwable cause) {
        FatalErrors.check(cause);
        String who = peer < 0 ? "unidentified peer" : "server " + peer;
        if (cause instanceof io.netty.handler.codec.DecoderException && cause.getCause() instanceof javax.net.ssl.SSLException) {
            // A failed TLS handshake repeats at every redial: warned about at most every QuorumAuthWarnings.INTERVAL_MS.
            transport.authWarnings.warn(peer, "server {0}: closing quorum connection with {1} ({2}): TLS failed: {3}", myId, who,
                    context.channel().remoteAddress(), cause.getCause().getMessage());
        } else {
            LOG.log(Level.WARNING, "server {0}: closing quorum connection with {1} ({2}): {3}", myId, who,
                    context.channel().remoteAddress(), cause.toString());
        }
        context.close();
    }

    /** What a learner sends its leader: discovery, sync and broadcast answers, pings and forwarded requests. */
    private static boolean isLearnerMessage(ZabMessage message) {
        return message instanceof ZabMessage.FollowerInfo || message instanceof ZabMessage.AckEpoch
                || message instanceof ZabMessage.AckNewLeader || message instanceof ZabMessage.Ack
                || message instanceof ZabMessage.Ping || message instanceof ZabMessage.Request;
    }

    /** One AUTH frame, length-prefixed, ready to write. */
    private static ByteBuf authFrame(Channel channel, QuorumAuth.Status status, byte[] token) {
        ByteBuf frame = channel.alloc().buffer();
        frame.writeInt(0);
        QuorumAuth.writeAuth(frame, status, token);
        frame.setInt(0, frame.readableBytes() - 4);
        return frame;
    }
}
