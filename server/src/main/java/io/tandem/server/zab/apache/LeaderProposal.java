package io.tandem.server.zab.apache;

import java.util.HashSet;
import java.util.List;
import java.util.Set;

/** A proposal not yet committed, or committed and kept for DIFF. */
final class LeaderProposal {
    final long zxid;
    final byte[] data;
    final Set<Long> acks = new HashSet<>();
    /** The voter sets it needs a quorum of ({@link LeaderConfigs#forProposal}). */
    final List<Set<Long>> quorums;
    /** The configuration a reconfig proposal makes, null for any other. */
    final ApacheConfig reconfig;

    LeaderProposal(long zxid, byte[] data, List<Set<Long>> quorums, ApacheConfig reconfig) {
        this.zxid = zxid;
        this.data = data;
        this.quorums = quorums;
        this.reconfig = reconfig;
    }
}
