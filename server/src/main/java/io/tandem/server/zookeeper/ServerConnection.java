package io.tandem.server.zookeeper;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.tandem.zk.wire.FourLetterWord;
import io.tandem.zk.wire.JuteInput;
import io.tandem.zk.wire.JuteLimits;
import io.tandem.zk.wire.JuteOutput;
import io.tandem.zk.wire.JuteRecord;
import io.tandem.zk.wire.KeeperCode;
import io.tandem.zk.wire.OpCode;
import io.tandem.zk.wire.Perms;
import io.tandem.zk.wire.Xids;
import io.tandem.zk.wire.data.Id;
import io.tandem.zk.wire.proto.AddWatchRequest;
import io.tandem.zk.wire.proto.AuthPacket;
import io.tandem.zk.wire.proto.CheckVersionRequest;
import io.tandem.zk.wire.proto.CheckWatchesRequest;
import io.tandem.zk.wire.proto.ConnectRequest;
import io.tandem.zk.wire.proto.ConnectResponse;
import io.tandem.zk.wire.proto.CreateRequest;
import io.tandem.zk.wire.proto.CreateTTLRequest;
import io.tandem.zk.wire.proto.DeleteRequest;
import io.tandem.zk.wire.proto.ExistsRequest;
import io.tandem.zk.wire.proto.GetACLRequest;
import io.tandem.zk.wire.proto.GetAllChildrenNumberRequest;
import io.tandem.zk.wire.proto.GetChildren2Request;
import io.tandem.zk.wire.proto.GetChildrenRequest;
import io.tandem.zk.wire.proto.GetDataRequest;
import io.tandem.zk.wire.proto.GetEphemeralsRequest;
import io.tandem.zk.wire.proto.MultiHeader;
import io.tandem.zk.wire.proto.ReconfigRequest;
import io.tandem.zk.wire.proto.RemoveWatchesRequest;
import io.tandem.zk.wire.proto.ReplyHeader;
import io.tandem.zk.wire.proto.RequestHeader;
import io.tandem.zk.wire.proto.SetACLRequest;
import io.tandem.zk.wire.proto.SetDataRequest;
import io.tandem.zk.wire.proto.SetWatches;
import io.tandem.zk.wire.proto.SetWatches2;
import io.tandem.zk.wire.proto.SyncRequest;
import io.tandem.zk.wire.proto.WatcherEvent;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.logging.Logger;

/**
 * One client connection: decodes frames into requests for the commit thread (on its Netty event loop), answers auth
 * packets at once as Apache does, and writes replies and watch events handed to it by the commit thread. A malformed
 * frame closes this connection only, with one log line.
 */
final class ServerConnection extends ChannelInboundHandlerAdapter implements Watcher {
    private static final Logger LOG = Logger.getLogger(ServerConnection.class.getName());

    private final ZkServer server;
    private final Channel channel;
    private final int fieldBytesMax;
    /** The ids this connection is authenticated as; ip:address from the start, digest ids after addauth. */
    final List<Id> authInfo = new CopyOnWriteArrayList<>();
    volatile long sessionId;
    volatile Session session;
    private volatile boolean connectReceived;
    private volatile boolean readOnlyEchoed;
    private final AtomicInteger inFlight = new AtomicInteger();
    private volatile boolean throttled;
    private volatile boolean closing;

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

    ServerConnection(ZkServer server, Channel channel) {
        this.server = server;
        this.channel = channel;
        this.fieldBytesMax = JuteLimits.fieldBytesMax(server.config.frameBytesMax(), server.config.frameBytesMax());
    }

    SocketAddress remoteAddress() {
        return channel.remoteAddress();
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        if (channel.remoteAddress() instanceof InetSocketAddress address && address.getAddress() != null) {
            authInfo.add(new Id("ip", address.getAddress().getHostAddress()));
            int max = server.config.maxClientConnections();
            if (max > 0 && server.listener.connectionsFrom(address.getAddress()) >= max) {
                LOG.warning(() -> "Too many connections from " + address.getAddress() + " - max is " + max);
                closing = true;
                channel.close();
                return;
            }
        }
        server.listener.opened(this);
        ctx.fireChannelActive();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        closing = true;
        server.listener.closed(this);
        ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        LOG.info(() -> "Closing ZooKeeper connection from " + channel.remoteAddress() + " (session 0x"
                + Long.toHexString(sessionId) + "): " + cause);
        closeNow();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object message) {
        if (message instanceof FourLetterWord word) {
            FourLetterWords.answer(server, channel, word);
            return;
        }
        ByteBuf frame = (ByteBuf) message;
        try {
            if (!closing) {
                handleFrame(frame);
            }
        } catch (RuntimeException e) {
            LOG.info(() -> "Closing ZooKeeper connection from " + channel.remoteAddress() + " (session 0x"
                    + Long.toHexString(sessionId) + "): malformed request: " + e.getMessage());
            closeNow();
        } finally {
            frame.release();
        }
    }

    private void handleFrame(ByteBuf frame) {
        JuteInput in = new JuteInput(frame, fieldBytesMax);
        server.stats.packetsReceived.incrementAndGet();
        packetsReceived.incrementAndGet();
        if (!connectReceived) {
            ConnectRequest connect = ConnectRequest.read(in);
            connectReceived = true;
            readOnlyEchoed = connect.readOnly() != null;
            // No packets until the session is settled, as Apache's disableRecv.
            channel.config().setAutoRead(false);
            submit(new Request(this, connect.sessionId(), 0, Request.KIND_CONNECT, connect));
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
            // SASL is not offered; a client only sends it when configured for it.
            sendNow(header.xid(), 0, KeeperCode.AUTH_FAILED.code(), null);
            closeAfterFlush();
            return;
        }
        Object body = decodeBody(type, in);
        submit(new Request(this, 0, header.xid(), body == UNKNOWN ? Request.KIND_UNKNOWN : type,
                body == UNKNOWN ? null : body));
    }

    private void submit(Request request) {
        if (!server.submit(request)) {
            LOG.warning(() -> "Closing ZooKeeper connection from " + channel.remoteAddress()
                    + ": the server's request queue is full (" + ZkServer.QUEUE_REQUESTS_MAX + ")");
            closeNow();
            return;
        }
        if (inFlight.incrementAndGet() >= ZkServer.CONNECTION_IN_FLIGHT_MAX && !throttled) {
            throttled = true;
            channel.config().setAutoRead(false);
        }
    }

    static final Object UNKNOWN = new Object();

    static Object decodeBody(int type, JuteInput in) {
        return switch (type) {
            case OpCode.CREATE, OpCode.CREATE2, OpCode.CREATE_CONTAINER -> CreateRequest.read(in);
            case OpCode.CREATE_TTL -> CreateTTLRequest.read(in);
            case OpCode.DELETE -> DeleteRequest.read(in);
            case OpCode.EXISTS -> ExistsRequest.read(in);
            case OpCode.GET_DATA -> GetDataRequest.read(in);
            case OpCode.SET_DATA -> SetDataRequest.read(in);
            case OpCode.GET_ACL -> GetACLRequest.read(in);
            case OpCode.SET_ACL -> SetACLRequest.read(in);
            case OpCode.GET_CHILDREN -> GetChildrenRequest.read(in);
            case OpCode.GET_CHILDREN2 -> GetChildren2Request.read(in);
            case OpCode.SYNC -> SyncRequest.read(in);
            case OpCode.CHECK -> CheckVersionRequest.read(in);
            case OpCode.MULTI, OpCode.MULTI_READ -> decodeMulti(in);
            case OpCode.RECONFIG -> ReconfigRequest.read(in);
            case OpCode.CHECK_WATCHES -> CheckWatchesRequest.read(in);
            case OpCode.REMOVE_WATCHES -> RemoveWatchesRequest.read(in);
            case OpCode.SET_WATCHES -> SetWatches.read(in);
            case OpCode.SET_WATCHES2 -> SetWatches2.read(in);
            case OpCode.GET_EPHEMERALS -> GetEphemeralsRequest.read(in);
            case OpCode.GET_ALL_CHILDREN_NUMBER -> GetAllChildrenNumberRequest.read(in);
            case OpCode.ADD_WATCH -> AddWatchRequest.read(in);
            case OpCode.PING, OpCode.CLOSE_SESSION, OpCode.WHO_AM_I -> null;
            default -> UNKNOWN;
        };
    }

    /** Apache's MultiOperationRecord: (MultiHeader, op)* ended by a header with done set. */
    private static List<Request.Op> decodeMulti(JuteInput in) {
        List<Request.Op> ops = new ArrayList<>();
        MultiHeader header = MultiHeader.read(in);
        while (!header.done()) {
            JuteRecord op = switch (header.type()) {
                case OpCode.CREATE, OpCode.CREATE2, OpCode.CREATE_CONTAINER -> CreateRequest.read(in);
                case OpCode.CREATE_TTL -> CreateTTLRequest.read(in);
                case OpCode.DELETE -> DeleteRequest.read(in);
                case OpCode.SET_DATA -> SetDataRequest.read(in);
                case OpCode.CHECK -> CheckVersionRequest.read(in);
                case OpCode.GET_CHILDREN -> GetChildrenRequest.read(in);
                case OpCode.GET_DATA -> GetDataRequest.read(in);
                default -> throw new IllegalArgumentException("invalid op type " + header.type() + " in a multi");
            };
            ops.add(new Request.Op(header.type(), op));
            header = MultiHeader.read(in);
        }
        return ops;
    }

    private void handleAuth(int xid, AuthPacket auth) {
        String scheme = auth.scheme() == null ? "" : auth.scheme();
        boolean ok;
        switch (scheme) {
            case "digest" -> {
                String idPassword = new String(auth.auth() == null ? new byte[0] : auth.auth(), StandardCharsets.UTF_8);
                String digest = Acls.digest(idPassword);
                if (digest.equals(server.superDigest())) {
                    authInfo.add(new Id("super", ""));
                }
                authInfo.add(new Id("digest", digest));
                ok = true;
            }
            case "ip" -> ok = true; // the ip id was added when the connection opened
            default -> ok = false;
        }
        if (ok) {
            LOG.fine(() -> "Session 0x" + Long.toHexString(sessionId) + ": auth success for scheme " + scheme);
            sendNow(xid, 0, KeeperCode.OK.code(), null);
        } else {
            LOG.info(() -> "Authentication failed for scheme " + scheme + " from " + channel.remoteAddress());
            sendNow(xid, 0, KeeperCode.AUTH_FAILED.code(), null);
            closeAfterFlush();
        }
    }

    // ---------------------------------------------------------------- called by the commit thread

    void sessionEstablished(Session established, int timeoutMs) {
        session = established;
        sessionId = established.id;
        writeFrame(new ConnectResponse(0, timeoutMs, established.id, Session.password(established.id),
                readOnlyEchoed ? Boolean.FALSE : null));
        inFlight.decrementAndGet();
        channel.config().setAutoRead(true);
    }

    /** Expired or unknown session, or wrong password: Apache answers with timeout 0 and id 0, then closes. */
    void sessionRefused() {
        writeFrame(new ConnectResponse(0, 0, 0, new byte[Session.PASSWORD_BYTES], readOnlyEchoed ? Boolean.FALSE : null));
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

    void requestDone(int xid, long zxid, int type, long receivedNanos) {
        if (xid >= 0) {
            lastCxid = xid;
        }
        lastZxid = zxid;
        lastOp = type;
        long now = System.currentTimeMillis();
        long latency = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - receivedNanos);
        lastResponseMillis = now;
        lastLatencyMs = latency;
        latencyMinMs = Math.min(latencyMinMs, latency);
        latencyMaxMs = Math.max(latencyMaxMs, latency);
        latencyTotalMs += latency;
        latencyCount++;
        if (inFlight.decrementAndGet() <= ZkServer.CONNECTION_IN_FLIGHT_MAX / 2 && throttled) {
            throttled = false;
            channel.config().setAutoRead(true);
        }
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

    int inFlight() {
        return Math.max(0, inFlight.get());
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
        send(Xids.NOTIFICATION, event.zxid(), 0, new WatcherEvent(event.type().code(), event.state().code(), event.path()));
        server.responder.markForFlush(this);
    }

    private void writeFrame(JuteRecord record) {
        if (closing) {
            return;
        }
        ByteBuf buf = channel.alloc().buffer(64);
        try {
            buf.writeInt(0);
            record.write(new JuteOutput(buf));
            buf.setInt(0, buf.readableBytes() - 4);
        } catch (RuntimeException e) {
            buf.release();
            throw e;
        }
        server.stats.packetsSent.incrementAndGet();
        packetsSent.incrementAndGet();
        channel.write(buf, channel.voidPromise());
    }

    private void sendNow(int xid, long zxid, int err, JuteRecord body) {
        send(xid, zxid, err, body);
        channel.flush();
    }

    boolean isClosed() {
        return closing;
    }

    void flush() {
        channel.flush();
    }

    void closeAfterFlush() {
        closing = true;
        channel.writeAndFlush(io.netty.buffer.Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
    }

    void closeNow() {
        closing = true;
        channel.close();
    }
}
