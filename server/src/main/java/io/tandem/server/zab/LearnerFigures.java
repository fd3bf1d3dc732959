package io.tandem.server.zab;

import io.netty.channel.Channel;
import io.netty.channel.ChannelOutboundBuffer;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BiConsumer;
import java.util.function.IntPredicate;
import java.util.function.LongSupplier;

/**
 * What Apache's leader keeps per learner connection (LearnerHandler.getLearnerHandlerInfo), for the {@code observers}
 * admin command and {@code observer_connection_stat_reset}: when the connection came up, the Zab session messages
 * received from the peer and sent to it, the writes it forwarded, the newest zxid sent to it, and what waits in the
 * connection's outbound buffer. Counted on every member for every peer (a follower's figures are simply never asked
 * for): {@link #received} on the transport's event loop, {@link #sent} on the Zab thread, read by the admin command's
 * thread, hence atomics. One entry per live connection (the transport bounds those), replaced when a connection comes
 * up again and dropped when it ends, as Apache's LearnerHandlers come and go.
 */
public final class LearnerFigures {
    /** One peer connection's counters, as Apache's LearnerHandler fields. */
    private static final class Peer {
        final long establishedMillis = System.currentTimeMillis();
        final AtomicLong packetsReceived = new AtomicLong();
        final AtomicLong packetsSent = new AtomicLong();
        final AtomicLong requests = new AtomicLong();
        /** Apache: the zxid of the last packet sent with one (its leader's PINGs carry the last proposed zxid). */
        final AtomicLong lastZxid = new AtomicLong(-1);
    }

    private final Map<Integer, Peer> peers = new ConcurrentHashMap<>();
    /** The leader's last proposed zxid, read on the Zab thread: what Apache's PING carries and last_zxid shows. */
    private final LongSupplier lastProposed;

    LearnerFigures(LongSupplier lastProposed) {
        this.lastProposed = lastProposed;
    }

    /** The connection with {@code peer} came up: its figures start over, as a new LearnerHandler's do. */
    void connected(int peer) {
        peers.put(peer, new Peer());
    }

    /** The connection with {@code peer} ended: its figures go with it, as Apache's LearnerHandler does. */
    void disconnected(int peer) {
        peers.remove(peer);
    }

    /** A message from {@code from} arrived (event loop); election notifications are not learner traffic. */
    void received(int from, ZabMessage message) {
        if (!(message instanceof ZabMessage.SessionMessage)) return;
        Peer peer = peers.get(from);
        if (peer == null) return;
        peer.packetsReceived.incrementAndGet();
        if (message instanceof ZabMessage.Request) peer.requests.incrementAndGet();
    }

    /** Messages handed to the connection with {@code to} (Zab thread). */
    void sent(int to, List<ZabMessage> messages) {
        Peer peer = peers.get(to);
        if (peer == null) return;
        long zxid = -1;
        int session = 0;
        for (ZabMessage message : messages) {
            if (!(message instanceof ZabMessage.SessionMessage)) continue;
            session++;
            zxid = Math.max(zxid, zxidOf(message));
        }
        if (session == 0) return;
        peer.packetsSent.addAndGet(session);
        if (zxid > 0) peer.lastZxid.accumulateAndGet(zxid, Math::max);
    }

    private long zxidOf(ZabMessage message) {
        // Tandem's Ping carries no zxid; Apache's leader PINGs each learner with its last proposed one.
        if (message instanceof ZabMessage.Ping) return lastProposed.getAsLong();
        if (message instanceof ZabMessage.Proposal proposal) return proposal.zxid();
        if (message instanceof ZabMessage.Commit commit) return commit.zxid();
        if (message instanceof ZabMessage.UpToDate upToDate) return upToDate.commitZxid();
        if (message instanceof ZabMessage.NewLeader newLeader) return newLeader.zxid();
        return -1;
    }

    /** {@code network} counting what it is given here first, for the driver. */
    ZabNetwork counting(ZabNetwork network) {
        return (peer, messages) -> {
            sent(peer, messages);
            network.send(peer, messages);
        };
    }

    /**
     * Apache's LearnerHandler info of each peer in {@code include} with a connection: remote_socket_address, sid,
     * established (epoch millis, as Jackson writes a Date), queued_packets and queued_packets_size (what waits in the
     * connection's outbound buffer), packets_received, packets_sent, requests, last_zxid.
     */
    List<Map<String, Object>> info(IntPredicate include, QuorumTransport transport) {
        List<Map<String, Object>> list = new ArrayList<>();
        peers.forEach((id, peer) -> {
            if (!include.test(id)) return;
            Channel channel = transport.connection(id);
            if (channel == null) return;
            ChannelOutboundBuffer outbound = channel.unsafe().outboundBuffer();
            Map<String, Object> info = new LinkedHashMap<>();
            info.put("remote_socket_address", String.valueOf(channel.remoteAddress()));
            info.put("sid", (long) id);
            info.put("established", peer.establishedMillis);
            info.put("queued_packets", outbound == null ? 0 : outbound.size());
            info.put("queued_packets_size", outbound == null ? 0L : outbound.totalPendingWriteBytes());
            info.put("packets_received", peer.packetsReceived.get());
            info.put("packets_sent", peer.packetsSent.get());
            info.put("requests", peer.requests.get());
            info.put("last_zxid", peer.lastZxid.get());
            list.add(info);
        });
        return list;
    }

    /** On a leader: the figures of the observers among {@code synced} (it and the learners synced with it). */
    List<Map<String, Object>> syncedObservers(int[] synced, QuorumTransport transport) {
        return info(id -> contains(synced, id) && isObserver(transport, id), transport);
    }

    /**
     * Apache's leader lines of mntr: {@code learners} (learner connections up), {@code synced_followers} (voters and
     * non-voting followers among {@code synced}), {@code synced_non_voting_followers} (joiners no configuration names
     * yet), {@code synced_observers}, {@code pending_syncs} (as the application counts them), {@code leader_uptime}
     * (ms since {@code leadingSinceMillis}) and the {@code last}, {@code max} and {@code min_proposal_size}
     * ({@link ProposalSizes}), in the order Apache's LeaderZooKeeperServer registers them.
     */
    void reportLeader(int[] synced, QuorumTransport transport, long leadingSinceMillis, int pendingSyncs,
                      ProposalSizes sizes, BiConsumer<String, Object> line) {
        int myId = transport.myId();
        Map<Integer, QuorumTransport.Peer> members = transport.peers();
        int followers = 0;
        int nonVoting = 0;
        int observers = 0;
        for (int member : synced) {
            if (member == myId) continue;
            QuorumTransport.Peer peer = members.get(member);
            if (peer == null) {
                nonVoting++;
            } else if (peer.observer()) {
                observers++;
            } else {
                followers++;
            }
        }
        int learners = 0;
        for (int id : peers.keySet()) {
            if (id != myId && members.containsKey(id)) learners++;
        }
        line.accept("zk_learners", learners);
        line.accept("zk_synced_followers", followers + nonVoting);
        line.accept("zk_synced_non_voting_followers", nonVoting);
        line.accept("zk_synced_observers", observers);
        line.accept("zk_pending_syncs", pendingSyncs);
        line.accept("zk_leader_uptime", System.currentTimeMillis() - leadingSinceMillis);
        int[] lastMinMax = sizes.lastMinMax();
        line.accept("zk_last_proposal_size", lastMinMax[0]);
        line.accept("zk_max_proposal_size", lastMinMax[2]);
        line.accept("zk_min_proposal_size", lastMinMax[1]);
    }

    private static boolean contains(int[] ids, int id) {
        for (int each : ids) {
            if (each == id) return true;
        }
        return false;
    }

    private static boolean isObserver(QuorumTransport transport, int id) {
        QuorumTransport.Peer peer = transport.peers().get(id);
        return peer != null && peer.observer();
    }

    /** Apache's resetObserverConnectionStats: each observer's counters start over. */
    void resetObservers(QuorumTransport transport) {
        peers.forEach((id, peer) -> {
            if (!isObserver(transport, id)) return;
            peer.packetsReceived.set(0);
            peer.packetsSent.set(0);
            peer.requests.set(0);
            peer.lastZxid.set(-1);
        });
    }
}
