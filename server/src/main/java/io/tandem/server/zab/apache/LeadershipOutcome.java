package io.tandem.server.zab.apache;

import io.tandem.server.zab.apache.LearnerWire.QuorumPacket;
import java.util.List;

/** The epochs, the last logged and committed zxids, and the proposals logged but never committed. */
public record LeadershipOutcome(long acceptedEpoch, long currentEpoch, long lastLoggedZxid, long committedZxid,
                                List<QuorumPacket> uncommitted) {
}
