package io.tandem.server.zab.apache;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The leader's configurations as Apache's Leader counts them: joint quorums, NEWLEADER's version, the next leader. */
class LeaderConfigsTest {
    private static final ApacheConfig ONE_TO_THREE = config(0, 1, 2, 3);

    @Test
    void aStaticConfigurationIsVersionedWithTheNewEpochAndNeedsNoSecondQuorum() {
        LeaderConfigs configs = new LeaderConfigs(ONE_TO_THREE, ONE_TO_THREE);
        configs.establish(3);
        assertEquals(3L << 32, configs.lastSeen().version());
        assertTrue(configs.lastSeen().text().endsWith("\nversion=300000000"), configs.lastSeen().text());
        assertEquals(ONE_TO_THREE.members(), configs.lastSeen().members());
        assertTrue(configs.isFullQuorum(Set.of(1L, 3L)), "the same voters: one quorum does for both");
        configs.activated(configs.lastSeen());
        assertFalse(configs.pending());

        LeaderConfigs versioned = new LeaderConfigs(config(0x200000004L, 1, 2, 3), config(0x200000004L, 1, 2, 3));
        versioned.establish(3);
        assertEquals(0x200000004L, versioned.lastSeen().version(), "a versioned configuration keeps its version");
    }

    @Test
    void whileAReconfigIsPendingEveryProposalNeedsAQuorumOfTheOldAndOfTheNewVoters() {
        LeaderConfigs configs = new LeaderConfigs(config(0x100000000L, 1, 2, 3), config(0x100000000L, 1, 2, 3));
        assertEquals(List.of(Set.of(1L, 2L, 3L)), configs.forProposal());
        configs.proposed(config(0x100000005L, 1, 3, 4, 5));
        assertTrue(configs.pending());
        List<Set<Long>> quorums = configs.forProposal();
        assertFalse(LeaderConfigs.hasAllQuorums(quorums, Set.of(1L, 2L, 3L)), "the old voters alone do not commit");
        assertFalse(LeaderConfigs.hasAllQuorums(quorums, Set.of(1L, 4L, 5L)), "nor the new ones alone");
        assertTrue(LeaderConfigs.hasAllQuorums(quorums, Set.of(1L, 3L, 4L)));
        configs.activated(config(0x100000005L, 1, 3, 4, 5));
        assertFalse(configs.pending());
        assertEquals(List.of(Set.of(1L, 3L, 4L, 5L)), configs.forProposal());
    }

    @Test
    void aLeaderLeftOutDesignatesTheNewVoterThatAcknowledgedTheMostProposalsAfterTheReconfig() {
        ApacheConfig withoutThree = config(0x100000005L, 1, 2, 4);
        ApacheElection.Member three = ONE_TO_THREE.members().get(3L);
        assertEquals(3L, LeaderConfigs.designatedLeader(3, three, config(0x100000005L, 1, 2, 3), Set.of(1L, 2L, 3L),
                List.of()), "a leader still a voter at the same address stays");
        assertEquals(2L, LeaderConfigs.designatedLeader(3, three, withoutThree, Set.of(1L, 2L, 3L, 4L),
                List.of(Set.of(2L, 3L, 4L), Set.of(2L, 3L))), "server 2 acknowledged both proposals after it");
        assertEquals(1L, LeaderConfigs.designatedLeader(3, three, withoutThree, Set.of(1L, 3L),
                List.of(Set.of(3L))), "only server 1 acknowledged the reconfig among the new voters");
        ApacheConfig moved = ApacheConfig.parse(("server.1=127.0.0.1:2001:3001:participant\n"
                + "server.2=127.0.0.1:2002:3002:participant\nserver.3=127.0.0.1:2999:3003:participant\n"
                + "version=100000005").getBytes(StandardCharsets.UTF_8));
        assertEquals(1L, LeaderConfigs.designatedLeader(3, three, moved, Set.of(1L, 2L, 3L), List.of()),
                "a leader whose quorum address moved designates another");
    }

    @Test
    void aLoggedReconfigProposalCarriesItsConfigurationAndOtherTransactionsNone() {
        byte[] text = config(0x100000005L, 1, 2).text().getBytes(StandardCharsets.UTF_8);
        byte[] path = "/zookeeper/config".getBytes(StandardCharsets.UTF_8);
        java.nio.ByteBuffer txn = java.nio.ByteBuffer.allocate(32 + 4 + path.length + 4 + text.length + 4);
        txn.putLong(1).putInt(2).putLong(0x100000005L).putLong(0).putInt(16); // TxnHeader, type reconfig
        txn.putInt(path.length).put(path).putInt(text.length).put(text).putInt(-1); // SetDataTxn
        ApacheConfig carried = LeaderConfigs.ofProposal(
                new LearnerWire.QuorumPacket(LearnerWire.PROPOSAL, 0x100000005L, txn.array()));
        assertEquals(0x100000005L, carried.version());
        assertEquals(Set.of(1L, 2L), carried.voters());
        txn.putInt(28, 5); // a setData
        assertEquals(null, LeaderConfigs.ofProposal(
                new LearnerWire.QuorumPacket(LearnerWire.PROPOSAL, 0x100000005L, txn.array())));
    }

    /** Members {@code sids} on 127.0.0.1, quorum port 2000 + sid, election port 3000 + sid. */
    private static ApacheConfig config(long version, long... sids) {
        StringBuilder text = new StringBuilder();
        for (long sid : sids) {
            text.append("server.").append(sid).append("=127.0.0.1:").append(2000 + sid).append(':').append(3000 + sid)
                    .append(":participant\n");
        }
        text.append("version=").append(Long.toHexString(version));
        return ApacheConfig.parse(text.toString().getBytes(StandardCharsets.UTF_8));
    }
}
