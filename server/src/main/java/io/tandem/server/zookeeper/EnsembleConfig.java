package io.tandem.server.zookeeper;

import io.tandem.server.zab.QuorumTransport;
import java.nio.charset.StandardCharsets;
import java.util.Collections;
import java.util.Map;
import java.util.TreeMap;

/**
 * An ensemble's configuration as Apache 3.9 keeps it in the {@code /zookeeper/config} znode: one line per member in
 * QuorumServer.toString's form ({@code server.1=host:quorumPort:electionPort:participant[;clientHost:clientPort]},
 * sorted by id as QuorumMaj's map iterates) and a last line {@code version=<hex>} (QuorumMaj.toString). The client
 * part is printed only when the server line names it, as Apache does (a client port taken from the static
 * {@code clientPort} is not printed); a line naming only a port gets Apache's wildcard host {@code 0.0.0.0}.
 *
 * @param members each member's server spec in Apache's printed form, by id
 * @param version the configuration's version: the zxid of the reconfig that made it, 0 for a static configuration
 */
record EnsembleConfig(Map<Long, String> members, long version) {
    static final String VERSION_KEY = "version";
    private static final String WILDCARD_HOST = "0.0.0.0";

    EnsembleConfig {
        members = Collections.unmodifiableMap(new TreeMap<>(members));
    }

    /**
     * The configuration of zoo.cfg's {@code server.N} lines: version 0, as Apache reads a config without one, or the
     * version of the dynamic configuration file they came from ({@link DynamicConfigFile#version}).
     */
    static EnsembleConfig fromSettings(Map<String, String> settings) {
        Map<Long, String> members = new TreeMap<>();
        for (Map.Entry<String, String> setting : settings.entrySet()) {
            String key = setting.getKey().trim();
            if (key.matches("server\\.\\d+")) {
                long id = Long.parseLong(key.substring("server.".length()));
                members.put(id, spec(id, setting.getValue()));
            }
        }
        return new EnsembleConfig(members, DynamicConfigFile.version(settings));
    }

    /**
     * A member's line as Apache prints it. Throws IllegalArgumentException for a line Tandem's parser refuses (the
     * same parser that checks zoo.cfg's lines).
     */
    static String spec(long id, String value) {
        if (id > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("server." + id + ": server id out of range");
        }
        QuorumTransport.Peer peer = QuorumTransport.Peer.parse((int) id, value);
        StringBuilder spec = new StringBuilder(delimitedHost(peer.host())).append(':').append(peer.quorumPort());
        if (peer.electionPort() != -1) {
            spec.append(':').append(peer.electionPort());
        }
        spec.append(peer.observer() ? ":observer" : ":participant");
        String[] client = QuorumTransport.Peer.clientAddress((int) id, value);
        if (client != null) {
            spec.append(';').append(delimitedHost(client[0] == null ? WILDCARD_HOST : client[0])).append(':')
                    .append(client[1]);
        }
        return spec.toString();
    }

    /** Whether the member has every part Apache requires of a joining server: quorum, election and client address. */
    static boolean hasAllPorts(long id, String value) {
        return value.contains(";") && QuorumTransport.Peer.parse((int) id, value).electionPort() != -1;
    }

    private static String delimitedHost(String host) {
        String bare = host.startsWith("[") && host.endsWith("]") ? host.substring(1, host.length() - 1) : host;
        return bare.contains(":") ? "[" + bare + "]" : bare;
    }

    /** Reads the znode's text back; null for an empty znode (a standalone server's, or one not yet initialised). */
    static EnsembleConfig parse(byte[] data) {
        if (data == null || data.length == 0) {
            return null;
        }
        Map<Long, String> members = new TreeMap<>();
        long version = 0;
        for (String line : new String(data, StandardCharsets.UTF_8).split("\n")) {
            int equals = line.indexOf('=');
            if (equals < 0) {
                continue;
            }
            String key = line.substring(0, equals).trim();
            String value = line.substring(equals + 1).trim();
            if (key.equals(VERSION_KEY)) {
                version = Long.parseUnsignedLong(value, 16);
            } else if (key.startsWith("server.")) {
                members.put(Long.parseLong(key.substring("server.".length())), value);
            }
        }
        return new EnsembleConfig(members, version);
    }

    EnsembleConfig withVersion(long newVersion) {
        return new EnsembleConfig(members, newVersion);
    }

    /** The voting members (participants), whose majority is the quorum. */
    long votingCount() {
        return members.values().stream().filter(spec -> !spec.contains(":observer")).count();
    }

    /** The member lines without the version line: what a reconfig transaction carries until its zxid is known. */
    String membersText() {
        StringBuilder text = new StringBuilder();
        members.forEach((id, spec) -> text.append("server.").append(id).append('=').append(spec).append('\n'));
        return text.toString();
    }

    /** The znode's text, Apache's QuorumMaj.toString. */
    @Override
    public String toString() {
        return membersText() + VERSION_KEY + "=" + Long.toHexString(version);
    }

    byte[] bytes() {
        return toString().getBytes(StandardCharsets.UTF_8);
    }
}
