package io.tandem.server.zookeeper;

import io.tandem.server.zab.QuorumTransport;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Apache 3.9's admin commands that report the server's replicated state: {@code hash} (the tree digest),
 * {@code initial_configuration}, {@code last_snapshot}, {@code observers}, {@code observer_connection_stat_reset} and
 * {@code zabstate}, with Apache's keys and JSON types. Each method returns the command's data; those reading the tree
 * run on the commit thread (see {@link AdminCommands}).
 */
final class AdminStateCommands {
    private final ZkServer server;
    private final AdminCommands.Ensemble ensemble;

    AdminStateCommands(ZkServer server, AdminCommands.Ensemble ensemble) {
        this.server = server;
        this.ensemble = ensemble;
    }

    /**
     * Apache's {@code hash}: the digest log ({@link DigestHistory}), the tree digest kept at every 128th zxid, at most
     * 1024 entries, oldest first; empty until the first such zxid is applied. The tree keeps its digest as Apache's
     * DigestCalculator does, per applied change ({@link TreeDigest}), so members and Apache servers that applied the
     * same transactions log the same entries. Runs on the commit thread.
     */
    Map<String, Object> hash() {
        List<Map<String, Object>> digests = new ArrayList<>();
        for (DigestHistory.Entry entry : server.tree.digestHistory.entries()) digests.add(entry.toJson());
        Map<String, Object> data = new LinkedHashMap<>();
        data.put("digests", digests);
        return data;
    }

    /**
     * Apache's {@code initial_configuration}: what ZooKeeperServer.getInitialConfig answers. Apache's
     * ZooKeeperServerMain keeps the text of the zoo.cfg it read, an embedded ZooKeeperServer "", and the servers of a
     * quorum peer nothing (null, as Apache 3.9.5's ensemble members answer). Tandem: a standalone server started from
     * configuration files answers their text (and any --set lines), one built through the embedding API "", an
     * ensemble member null.
     */
    Map<String, Object> initialConfiguration() {
        Map<String, Object> data = new LinkedHashMap<>();
        data.put("initial_configuration", ensemble.initialConfig());
        return data;
    }

    /**
     * Apache's {@code last_snapshot}: the newest snapshot written, its zxid in hex and its time in seconds; Apache's
     * "none" answer ({@code ffffffffffffffff}, -1) before there is one. Standalone: the store's newest snapshot file
     * (the one a restart starts from); ensemble member: the newest it wrote since it started.
     */
    Map<String, Object> lastSnapshot() {
        long[] info = null;
        try {
            if (server.commitPath() instanceof StandaloneCommit standalone) {
                info = standalone.lastSnapshot();
            } else if (server.commitPath() instanceof EnsembleCommit member
                    && member.snapshots().lastCompletedZxid() >= 0) {
                info = new long[] {member.snapshots().lastCompletedZxid(), member.snapshots().lastCompletedMillis()};
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        Map<String, Object> data = new LinkedHashMap<>();
        data.put("zxid", Long.toHexString(info == null ? -1L : info[0]));
        data.put("timestamp", info == null ? -1L : info[1] / 1000);
        return data;
    }

    /**
     * Apache's {@code observers}: a leader lists the observers synced with it, each with its LearnerHandler figures
     * (Zab's leader: {@link io.tandem.server.zab.LearnerFigures}; the Apache-protocol leader: each observer's
     * connection, ApacheLearnerHandler), and so does an Apache-protocol follower with observerMasterPort (those synced
     * through its learner master, as Apache's Follower.getSyncedObserversInfo); any other server (a follower without
     * it, an observer, a standalone server) answers none.
     */
    Map<String, Object> observers() {
        List<Map<String, Object>> observers = server.commitPath().syncedObservers();
        Map<String, Object> data = new LinkedHashMap<>();
        data.put("synced_observers", observers == null ? 0 : observers.size());
        data.put("observers", observers == null ? List.of() : observers);
        return data;
    }

    /** Apache's {@code observer_connection_stat_reset}: a leader's observer counters start over; elsewhere nothing. */
    Map<String, Object> resetObserverStats() {
        server.commitPath().resetObserverStats();
        return new LinkedHashMap<>();
    }

    /**
     * A member's own quorum or election address as Apache's JsonOutputter writes its MultipleAddresses (one address:
     * Tandem has no multiAddress): Jackson serializes every bean getter of it. The address is this member's own,
     * which it has bound, so it is reachable.
     */
    private static Map<String, Object> addresses(String host, int port) {
        String address = host + ":" + port;
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("empty", false);
        json.put("all_reachable_addresses", List.of(address));
        json.put("all_reachable_addresses_or_all", List.of(address));
        json.put("reachable_or_one", address);
        json.put("one", address);
        json.put("all_addresses", List.of(address));
        json.put("wildcard_addresses", List.of("0.0.0.0:" + port));
        json.put("all_ports", List.of(port));
        json.put("all_host_strings", List.of(host));
        json.put("reachable_address", address);
        return json;
    }

    /**
     * Apache's {@code zabstate}: the Zab phase of a member that runs a quorum server; Apache's AdminServer has no quorum
     * server while its peer is looking (or read-only), and then answers only {@code voting: false} and an empty
     * phase, as a standalone server does. A serving member is in Zab's broadcast phase.
     */
    Map<String, Object> zabState() {
        Map<String, Object> data = new LinkedHashMap<>();
        String mode = server.mode();
        if (ensemble.isStandalone() || mode.equals("looking") || mode.equals(EnsembleCommit.READ_ONLY_MODE)) {
            data.put("voting", false);
            data.put("zabstate", "");
            return data;
        }
        String line = ensemble.serverLines().get(ensemble.myId());
        QuorumTransport.Peer peer = QuorumTransport.Peer.parse(ensemble.myId(), line);
        String[] client = QuorumTransport.Peer.clientAddress(ensemble.myId(), line);
        long zxid = server.tree.lastProcessedZxid();
        data.put("myid", (long) ensemble.myId());
        data.put("is_leader", mode.equals("leader"));
        data.put("quorum_address", addresses(peer.host(), peer.quorumPort()));
        data.put("election_address", peer.electionPort() < 0 ? null : addresses(peer.host(), peer.electionPort()));
        // Apache's peer answers its client listener's bound address.
        String clientHost = client != null && client[0] != null ? client[0] : server.config.host();
        data.put("client_address", (clientHost == null || clientHost.isEmpty() ? "0.0.0.0" : clientHost) + ":"
                + server.port());
        data.put("voting", !peer.observer());
        data.put("last_zxid", "0x" + Long.toHexString(zxid));
        data.put("zab_epoch", zxid >>> 32);
        data.put("zab_counter", zxid & 0xffffffffL);
        data.put("zabstate", "broadcast");
        return data;
    }
}
