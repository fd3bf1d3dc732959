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

    /**
     * Parses {@code host:quorumPort[:electionPort][:participant|:observer][;[clientAddress:]clientPort]} (the
     * client part is checked by the member it names: {@link #clientAddress}); any other role is refused with
     * Apache's words.
     */
    static Peer parseLine(int id, String value) {
        String address = value.split(";", 2)[0].trim();
        String[] parts = address.split(":");
        if (parts.length < 2 || parts.length > 4 || parts[0].isEmpty()) {
            throw new IllegalArgumentException("server." + id + "=" + value
                    + ": expected host:quorumPort:electionPort");
        }
        boolean observer = false;
        if (parts.length == 4) {
            String role = parts[3].trim().toLowerCase(java.util.Locale.ROOT);
            observer = role.equals("observer");
            if (!observer && !role.equals("participant")) {
                throw new IllegalArgumentException("server." + id + "=" + value + ": Unrecognised peertype: "
                        + parts[3].trim());
            }
        }
        try {
            int quorumPort = Integer.parseInt(parts[1].trim());
            int electionPort = parts.length > 2 && !parts[2].isBlank() ? Integer.parseInt(parts[2].trim()) : -1;
            checkPort(id, quorumPort);
            if (electionPort != -1) {
                checkPort(id, electionPort);
            }
            if (electionPort == quorumPort && quorumPort != 0) {
                // Apache binds both, so such a line fails there; refuse it here too rather than accept a config
                // that only works with Tandem.
                throw new IllegalArgumentException("server." + id + "=" + value
                        + ": quorumPort and electionPort must differ");
            }
            clientAddress(id, value);
            return new Peer(id, parts[0].trim(), quorumPort, electionPort, observer);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("server." + id + "=" + value + ": bad port", e);
        }
    }

    /**
     * The optional client part of a server line ({@code ;[address:]port}, Apache 3.5+), as {address or null,
     * port}, or null when the line has none.
     */
    static String[] clientAddress(int id, String value) {
        String[] halves = value.split(";", 2);
        if (halves.length < 2) return null;
        String client = halves[1].trim();
        int colon = client.lastIndexOf(':');
        String host = colon < 0 ? null : client.substring(0, colon).trim();
        String port = client.substring(colon + 1).trim();
        try {
            checkPort(id, Integer.parseInt(port));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("server." + id + "=" + value + ": bad client port", e);
        }
        return new String[] {host == null || host.isEmpty() ? null : host, port};
    }

    private static void checkPort(int id, int port) {
        if (port < 0 || port > 65_535) {
            throw new IllegalArgumentException("server." + id + ": port out of range: " + port);
        }
    }
}
