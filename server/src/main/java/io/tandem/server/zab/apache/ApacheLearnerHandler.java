package io.tandem.server.zab.apache;

import io.tandem.server.zab.apache.LearnerWire.QuorumPacket;
import io.tandem.storage.zk.SnapshotBody;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One learner's connection to a {@link LearnerMaster}, as Apache's LearnerHandler: to an {@link ApacheLeader}, a
 * follower (FOLLOWERINFO) or an observer (OBSERVERINFO); to a follower's {@link ObserverMaster}, an observer. A reader thread runs the learner through discovery and sync and then reads its ACKs, PING
 * answers, REVALIDATEs and REQUESTs; a sender thread writes the packets queued for it in order (the leader queues
 * under its lock and never blocks on a slow learner; a learner whose queue grows past {@link #QUEUED_BYTES_MAX} is
 * disconnected, and re-syncs when it returns).
 */
final class ApacheLearnerHandler {
    private static final Logger LOG = System.getLogger(ApacheLearnerHandler.class.getName());

    /** Bytes queued for one learner before it is given up as too slow. */
    static final long QUEUED_BYTES_MAX = 256L << 20;
    /** What a queued SNAP body counts towards {@link #QUEUED_BYTES_MAX}: it is written as it is read, never held. */
    private static final long BODY_QUEUED_BYTES = 32;
    private static final QuorumPacket STOP = new QuorumPacket(Integer.MIN_VALUE + 1, 0, null);

    private final LearnerMaster leader;
    private final Socket socket;
    /** Packets, and SNAP bodies ({@link SnapshotBody}) written outside any packet, in the order they go out. */
    private final LinkedBlockingQueue<Object> queue = new LinkedBlockingQueue<>();
    private long queuedBytes;
    private volatile long sid = -1;
    private volatile boolean synced;
    private volatile boolean observer;
    private volatile long lastHeardNanos = System.nanoTime();
    private volatile boolean closed;
    /** When the connection came (Apache's LearnerHandler.established), for the observers admin command. */
    private final long establishedMillis = System.currentTimeMillis();
    /** Apache's LearnerHandler counters: packets read after the sync, REQUESTs among them, packets the sender wrote. */
    private final AtomicLong packetsReceived = new AtomicLong();
    private final AtomicLong requests = new AtomicLong();
    private final AtomicLong packetsSent = new AtomicLong();
    /** The zxid of the last packet the sender wrote with one (above 0), -1 before any, as Apache's lastZxid. */
    private final AtomicLong lastZxid = new AtomicLong(-1);

    ApacheLearnerHandler(LearnerMaster leader, Socket socket) {
        this.leader = leader;
        this.socket = socket;
    }

    long sid() {
        return sid;
    }

    boolean isSynced() {
        return synced;
    }

    /** Connected with OBSERVERINFO: it is sent INFORMs rather than proposals and commits, and never votes. */
    boolean isObserver() {
        return observer;
    }

    long lastHeardNanos() {
        return lastHeardNanos;
    }

    void start() {
        Thread reader = new Thread(this::run, "apache-learner-handler-" + socket.getRemoteSocketAddress());
        reader.setDaemon(true);
        reader.start();
    }

    /** Queues a packet for the sender (under the leader's lock). */
    void queue(QuorumPacket packet) {
        enqueue(packet, packetBytes(packet));
    }

    /**
     * Queues a SNAP's body (under the leader's lock), written outside any packet: the sender writes it straight to the
     * socket when its turn comes, reading the live tree as it goes, so only the socket's buffer holds any of it.
     */
    void queueBody(SnapshotBody body) {
        enqueue(body, BODY_QUEUED_BYTES);
    }

    /** Apache's LearnerHandler.packetSize: a packet's fixed fields taken as 28 bytes, plus its data. */
    static long packetBytes(QuorumPacket packet) {
        return 28 + (packet.data() == null ? 0 : packet.data().length);
    }

    private void enqueue(Object item, long bytes) {
        if (closed) return;
        synchronized (this) {
            queuedBytes += bytes;
            if (queuedBytes > QUEUED_BYTES_MAX) {
                LOG.log(Level.WARNING, "server {0}: learner {1} has {2} bytes queued, over {3}: disconnecting it",
                        leader.myId(), sid, queuedBytes, QUEUED_BYTES_MAX);
                close();
                return;
            }
        }
        queue.add(item);
    }

    private void run() {
        Thread sender = null;
        try {
            socket.setTcpNoDelay(true);
            socket.setSoTimeout(leader.initLimitMs());
            DataInputStream in = new DataInputStream(new BufferedInputStream(socket.getInputStream()));
            DataOutputStream out = new DataOutputStream(new BufferedOutputStream(socket.getOutputStream()));
            QuorumPacket info = LearnerWire.read(in, LearnerWire.LEARNER_INFO_PACKET_BYTES_MAX);
            lastHeardNanos = System.nanoTime();
            if (info.type() != LearnerWire.FOLLOWERINFO && info.type() != LearnerWire.OBSERVERINFO) {
                throw new IOException("expected FOLLOWERINFO or OBSERVERINFO, got " + info);
            }
            if (info.data() == null || info.data().length < 8) {
                throw new IOException(LearnerWire.typeName(info.type()) + " without a LearnerInfo");
            }
            sid = ByteBuffer.wrap(info.data()).getLong();
            // An observer goes through the same discovery and sync as a follower (Apache's LearnerHandler); the leader
            // counts it in no quorum, as it counts no server its committed configuration does not make a voter.
            observer = info.type() == LearnerWire.OBSERVERINFO;
            // A server the configuration does not name follows without a vote, as Apache's LearnerHandler lets it:
            // a member a reconfig removed, or a joiner that syncs before the reconfig adding it can find a quorum.
            long newEpoch = leader.followerInfo(sid, info.zxid() >>> 32);
            if (newEpoch < 0) return;
            write(out, new QuorumPacket(LearnerWire.LEADERINFO, newEpoch << 32,
                    ByteBuffer.allocate(4).putInt(LearnerWire.PROTOCOL_VERSION).array()));
            QuorumPacket ackEpoch = read(in);
            if (ackEpoch.type() != LearnerWire.ACKEPOCH || ackEpoch.data() == null || ackEpoch.data().length < 4) {
                throw new IOException("expected ACKEPOCH, got " + ackEpoch);
            }
            int learnerEpoch = ByteBuffer.wrap(ackEpoch.data()).getInt();
            if (!leader.epochAcked(sid, learnerEpoch, ackEpoch.zxid())) return;
            int kind = leader.syncLearner(this, ackEpoch.zxid());
            if (kind < 0) return;
            LOG.log(Level.INFO, "server {0}: syncing {1} {2} (last zxid 0x{3}) by {4}", leader.myId(),
                    observer ? "observer" : "learner", sid, Long.toHexString(ackEpoch.zxid()),
                    LearnerWire.typeName(kind));
            DataOutputStream sending = out;
            sender = new Thread(() -> sendLoop(sending), "apache-learner-sender-" + sid);
            sender.setDaemon(true);
            sender.start();
            QuorumPacket ack = read(in);
            if (ack.type() != LearnerWire.ACK) {
                throw new IOException("expected the ACK of NEWLEADER, got " + ack);
            }
            if (!leader.newLeaderAcked(sid)) return;
            socket.setSoTimeout(leader.syncLimitMs());
            queue(new QuorumPacket(LearnerWire.UPTODATE, -1, null));
            synced = true;
            while (!closed) {
                QuorumPacket packet = read(in);
                packetsReceived.incrementAndGet();
                switch (packet.type()) {
                    case LearnerWire.ACK -> leader.ack(sid, packet.zxid());
                    case LearnerWire.PING -> leader.touches(touches(packet.data()));
                    case LearnerWire.REVALIDATE -> {
                        ByteBuffer data = ByteBuffer.wrap(orEmpty(packet.data()));
                        if (data.remaining() < 12) throw new IOException("short REVALIDATE " + packet);
                        leader.revalidate(this, data.getLong(), data.getInt(), packet);
                    }
                    case LearnerWire.REQUEST -> request(packet);
                    default -> LOG.log(Level.WARNING, "server {0}: unexpected {1} from learner {2}", leader.myId(),
                            packet, sid);
                }
            }
        } catch (IOException e) {
            if (!closed) {
                // A peer that never named itself is known by its address only.
                Object who = sid == -1 ? socket.getRemoteSocketAddress() : sid;
                LOG.log(Level.INFO, "server {0}: learner {1} gone: {2}", leader.myId(), who, e.toString());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            close();
            leader.learnerGone(this);
            if (sender != null) sender.interrupt();
        }
    }

    private void request(QuorumPacket packet) throws IOException {
        byte[] data = orEmpty(packet.data());
        if (data.length < 16) throw new IOException("short REQUEST " + packet);
        requests.incrementAndGet();
        ByteBuffer buffer = ByteBuffer.wrap(data);
        long sessionId = buffer.getLong();
        int cxid = buffer.getInt();
        int type = buffer.getInt();
        leader.request(this, packet, sessionId, cxid, type, Arrays.copyOfRange(data, 16, data.length),
                packet.authinfo() == null ? java.util.List.of() : packet.authinfo());
    }

    private static Map<Long, Integer> touches(byte[] data) throws IOException {
        byte[] bytes = orEmpty(data);
        if (bytes.length % 12 != 0) throw new IOException("PING answer of " + bytes.length + " bytes");
        Map<Long, Integer> touches = new HashMap<>();
        ByteBuffer buffer = ByteBuffer.wrap(bytes);
        while (buffer.hasRemaining()) {
            touches.put(buffer.getLong(), buffer.getInt());
        }
        return touches;
    }

    private static byte[] orEmpty(byte[] data) {
        return data == null ? new byte[0] : data;
    }

    private QuorumPacket read(DataInputStream in) throws IOException {
        QuorumPacket packet = LearnerWire.read(in, ApacheFollower.PACKET_DATA_BYTES_MAX);
        lastHeardNanos = System.nanoTime();
        return packet;
    }

    private void write(DataOutputStream out, QuorumPacket packet) throws IOException {
        LearnerWire.write(packet, out);
        out.flush();
    }

    private void sendLoop(DataOutputStream out) {
        try {
            while (true) {
                Object item = queue.take();
                if (item == STOP) return;
                if (item instanceof SnapshotBody body) {
                    synchronized (this) {
                        queuedBytes -= BODY_QUEUED_BYTES;
                    }
                    body.writeTo(out);
                } else {
                    QuorumPacket packet = (QuorumPacket) item;
                    synchronized (this) {
                        queuedBytes -= packetBytes(packet);
                    }
                    LearnerWire.write(packet, out);
                    // Apache writes SNAP straight to the socket, past its sender and so past these counters.
                    if (packet.type() != LearnerWire.SNAP) {
                        packetsSent.incrementAndGet();
                        if (packet.zxid() > 0) lastZxid.set(packet.zxid());
                    }
                }
                if (queue.isEmpty()) out.flush();
            }
        } catch (IOException e) {
            close();
        } catch (InterruptedException e) {
            // the reader ended
        }
    }

    /**
     * Apache's LearnerHandler.getLearnerHandlerInfo, in its order: remote_socket_address (the socket's, as Java
     * prints it), sid, established (epoch ms, as Jackson writes Apache's Date), queued_packets and
     * queued_packets_size (what waits for the sender), packets_received, packets_sent, requests, last_zxid.
     */
    Map<String, Object> info() {
        Map<String, Object> info = new LinkedHashMap<>();
        info.put("remote_socket_address", String.valueOf(socket.getRemoteSocketAddress()));
        info.put("sid", sid);
        info.put("established", establishedMillis);
        info.put("queued_packets", queue.size());
        synchronized (this) {
            info.put("queued_packets_size", Math.max(0, queuedBytes));
        }
        info.put("packets_received", packetsReceived.get());
        info.put("packets_sent", packetsSent.get());
        info.put("requests", requests.get());
        info.put("last_zxid", lastZxid.get());
        return info;
    }

    /** Apache's LearnerHandler.resetObserverConnectionStats: the counters start over (the queue is left alone). */
    void resetStats() {
        packetsReceived.set(0);
        packetsSent.set(0);
        requests.set(0);
        lastZxid.set(-1);
    }

    void close() {
        closed = true;
        queue.add(STOP);
        try {
            socket.close();
        } catch (IOException ignored) {
            // closing anyway
        }
    }
}
