package io.tandem.server.zab;

import io.tandem.server.zab.QuorumTransport.Peer;
import java.util.Map;
import java.util.TreeMap;

/** zoo.cfg's {@code server.N} lines as the quorum transport's members, with Apache's checks across the lines. */
final class QuorumPeers {
    private QuorumPeers() {}

    /** Reads every {@code server.N} key of a zoo.cfg-style map. */
    static Map<Integer, Peer> parse(Map<String, String> settings) {
        Map<Integer, Peer> peers = new TreeMap<>();
        for (Map.Entry<String, String> setting : settings.entrySet()) {
            String key = setting.getKey().trim();
            if (!key.startsWith("server.")) {
                continue;
            }
            int id;
            try {
                id = Integer.parseInt(key.substring("server.".length()));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException(key + ": server id must be a number", e);
            }
            if (id < 0) {
                throw new IllegalArgumentException(key + ": server id must not be negative");
            }
            peers.put(id, Peer.parse(id, setting.getValue()));
        }
        checkDistinctAddresses(peers);
        checkRoles(peers);
        return peers;
    }

    /**
     * Apache's QuorumPeerConfig rules for observers: they need voters to follow, and a quorum of more than one voter
     * (with a single participant Apache runs it standalone, where observers have nothing to observe).
     */
    private static void checkRoles(Map<Integer, Peer> peers) {
        long observers = peers.values().stream().filter(Peer::observer).count();
        long voters = peers.size() - observers;
        if (observers > 0 && voters == 0) {
            throw new IllegalArgumentException("Observers w/o participants is an invalid configuration");
        }
        if (observers > 0 && voters == 1) {
            throw new IllegalArgumentException("Observers w/o quorum is an invalid configuration");
        }
    }

    /** Two servers cannot listen on the same host and port (0, "any free port", excepted), as Apache checks too. */
    private static void checkDistinctAddresses(Map<Integer, Peer> peers) {
        Map<String, String> owners = new TreeMap<>();
        for (Peer peer : peers.values()) {
            for (int port : new int[] {peer.quorumPort(), peer.electionPort()}) {
                if (port <= 0) {
                    continue;
                }
                String address = peer.host().toLowerCase(java.util.Locale.ROOT) + ":" + port;
                String owner = owners.putIfAbsent(address, "server." + peer.id());
                if (owner != null && !owner.equals("server." + peer.id())) {
                    throw new IllegalArgumentException(address + " of server." + peer.id() + " conflicts with "
                            + owner);
                }
            }
        }
    }
}
