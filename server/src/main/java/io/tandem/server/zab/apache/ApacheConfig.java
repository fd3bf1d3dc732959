package io.tandem.server.zab.apache;

import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * A configuration as Apache's quorum protocol carries it (QuorumMaj.toString: the text of a reconfig transaction, of
 * NEWLEADER and of election notifications): {@code server.N=host:quorumPort:electionPort[:role][;[host:]clientPort]}
 * lines and {@code version=<hex>}, the zxid of the reconfig that made it (0: a static configuration). Only what a
 * member needs to follow and elect is kept: each member's addresses and whether it votes.
 *
 * @param text the configuration as received, written unchanged into {@code /zookeeper/config}
 */
public record ApacheConfig(long version, Map<Long, ApacheElection.Member> members, Set<Long> observers,
                           String text) {

    /** The static configuration of zoo.cfg's members (version 0), every one a voter. */
    public static ApacheConfig of(Map<Long, ApacheElection.Member> members) {
        return of(members, Set.of());
    }

    /** The static configuration of zoo.cfg's members (version 0), those of {@code observers} not voting. */
    public static ApacheConfig of(Map<Long, ApacheElection.Member> members, Set<Long> observers) {
        Set<Long> observing = new TreeSet<>(observers);
        observing.retainAll(members.keySet());
        return new ApacheConfig(0, Map.copyOf(members), Set.copyOf(observing),
                ApacheElection.configText(members, observing));
    }

    /** The same members under {@code newVersion}: the text's version line replaced (QuorumMaj.setVersion). */
    public ApacheConfig withVersion(long newVersion) {
        StringBuilder lines = new StringBuilder();
        for (String line : text.split("\n")) {
            if (!line.isBlank() && !line.trim().startsWith("version=")) lines.append(line.trim()).append('\n');
        }
        lines.append("version=").append(Long.toHexString(newVersion));
        return new ApacheConfig(newVersion, members, observers, lines.toString());
    }

    /** The voting members' ids. */
    public Set<Long> voters() {
        Set<Long> voters = new TreeSet<>(members.keySet());
        voters.removeAll(observers);
        return voters;
    }

    /**
     * Parses a configuration text; lines it does not know (Apache's {@code group.N}, {@code weight.N}) are refused,
     * as Tandem runs majority quorums only.
     */
    public static ApacheConfig parse(byte[] data) {
        String text = new String(data, StandardCharsets.UTF_8);
        Map<Long, ApacheElection.Member> members = new TreeMap<>();
        Set<Long> observers = new TreeSet<>();
        long version = 0;
        for (String raw : text.split("\n")) {
            String line = raw.trim();
            if (line.isEmpty()) continue;
            int equals = line.indexOf('=');
            if (equals < 0) {
                throw new IllegalArgumentException("configuration line without '=': " + line);
            }
            String key = line.substring(0, equals).trim();
            String value = line.substring(equals + 1).trim();
            if (key.equals("version")) {
                version = Long.parseUnsignedLong(value, 16);
            } else if (key.startsWith("server.")) {
                long sid = Long.parseLong(key.substring("server.".length()));
                members.put(sid, member(sid, value));
                if (value.split(";")[0].endsWith(":observer")) observers.add(sid);
            } else {
                throw new IllegalArgumentException("configuration line Tandem does not run: " + line);
            }
        }
        return new ApacheConfig(version, Map.copyOf(members), Set.copyOf(observers), text);
    }

    /** {@code host:quorumPort:electionPort[:role][;[host:]clientPort]}; an IPv6 host is in brackets. */
    private static ApacheElection.Member member(long sid, String value) {
        String[] halves = value.split(";", 2);
        String server = halves[0];
        String host;
        String rest;
        if (server.startsWith("[")) {
            int close = server.indexOf(']');
            host = server.substring(1, close);
            rest = server.substring(close + 2);
        } else {
            int colon = server.indexOf(':');
            host = server.substring(0, colon);
            rest = server.substring(colon + 1);
        }
        String[] ports = rest.split(":");
        if (ports.length < 2) {
            throw new IllegalArgumentException("server." + sid + " without quorum and election ports: " + value);
        }
        int clientPort = 0;
        if (halves.length == 2 && !halves[1].isBlank()) {
            String client = halves[1].trim();
            clientPort = Integer.parseInt(client.substring(client.lastIndexOf(':') + 1));
        }
        return new ApacheElection.Member(sid, host, Integer.parseInt(ports[0]), Integer.parseInt(ports[1]),
                clientPort);
    }
}
