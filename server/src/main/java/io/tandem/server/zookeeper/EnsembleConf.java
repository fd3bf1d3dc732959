package io.tandem.server.zookeeper;

import io.tandem.server.zab.QuorumTransport;
import java.nio.charset.StandardCharsets;
import java.util.Map;

/**
 * What the {@code conf} four-letter word prints after the server's own keys on an ensemble member, as Apache 3.9's
 * QuorumZooKeeperServer.dumpConf: {@code serverId}, {@code initLimit}, {@code syncLimit}, {@code electionAlg} (3, fast
 * leader election, the only one 3.9 has), this member's {@code electionPort} and {@code quorumPort}, {@code peerType}
 * (LearnerType's ordinal: 0 participant, 1 observer, as the active configuration makes it), then a
 * {@code membership: } line and the active configuration as QuorumMaj prints it ({@code server.N=...} lines and
 * {@code version=<hex>}, no newline after it), i.e. the {@code /zookeeper/config} znode's text.
 */
record EnsembleConf(EnsembleConfig staticConfig, int initLimit, int syncLimit) {
    /** Apache's electionAlg: 3 is FastLeaderElection, the only algorithm left since 3.6. */
    private static final int FAST_LEADER_ELECTION = 3;

    static EnsembleConf fromSettings(Map<String, String> settings) {
        return new EnsembleConf(EnsembleConfig.fromSettings(settings),
                Integer.parseInt(settings.getOrDefault("initLimit", "10").trim()),
                Integer.parseInt(settings.getOrDefault("syncLimit", "5").trim()));
    }

    /**
     * @param myId     this member's id
     * @param observer whether the active configuration makes this member an observer
     * @param znode    the {@code /zookeeper/config} znode's data (empty or null before it is filled)
     */
    String text(int myId, boolean observer, byte[] znode) {
        String spec = staticConfig.members().get((long) myId);
        QuorumTransport.Peer own = spec == null ? null : QuorumTransport.Peer.parse(myId, spec);
        String membership = znode == null || znode.length == 0 ? staticConfig.toString()
                : new String(znode, StandardCharsets.UTF_8);
        return "serverId=" + myId + "\n"
                + "initLimit=" + initLimit + "\n"
                + "syncLimit=" + syncLimit + "\n"
                + "electionAlg=" + FAST_LEADER_ELECTION + "\n"
                + "electionPort=" + (own == null ? -1 : own.electionPort()) + "\n"
                + "quorumPort=" + (own == null ? -1 : own.quorumPort()) + "\n"
                + "peerType=" + (observer ? 1 : 0) + "\n"
                + "membership: \n"
                + membership;
    }
}
