package io.tandem.server.zab;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.tandem.server.zab.ZabMessage.AckEpoch;
import io.tandem.server.zab.ZabMessage.AckNewLeader;
import io.tandem.server.zab.ZabMessage.FollowerInfo;
import io.tandem.server.zab.ZabMessage.Notification;
import io.tandem.server.zab.ZabMessage.Proposal;
import org.junit.jupiter.api.Test;

/**
 * A leader's proposal sizes (Apache's Leader.proposalStats, for srvr and mntr): -1 until the first proposal, then
 * the last, smallest and largest PROPOSAL frame it sends, exactly the bytes on the wire; only an established leader
 * has them, and each leadership starts over.
 */
class ZabProposalSizesTest {
    @Test
    void shouldMeasureEachProposalAsTheFrameTheLeaderSends() {
        ZabStateMachine leader = establishedLeaderOfTwo(200, 0);
        assertArrayEquals(new int[] {-1, -1, -1}, leader.proposalSizes().lastMinMax(), "Apache's before any");
        assertEquals("-1/-1/-1", leader.proposalSizes().toString());

        int large = proposeAndMeasureTheFrame(leader, new byte[100]);
        int small = proposeAndMeasureTheFrame(leader, new byte[3]);
        int middle = proposeAndMeasureTheFrame(leader, new byte[40]);
        assertArrayEquals(new int[] {middle, small, large}, leader.proposalSizes().lastMinMax());
        assertEquals(middle + "/" + small + "/" + large, leader.proposalSizes().toString());
        assertEquals(ZabCodec.proposalFrameBytes(100), large);
    }

    @Test
    void shouldHaveNoneOnAFollowerNorOnALeaderNotYetEstablished() {
        ZabStateMachine leader = new ZabStateMachine(ZabConfig.of(1, 1, 2, 3), DurableState.empty(), 1);
        leader.receive(2, new Notification(1, 0, 0, 1, Role.LOOKING));
        leader.finalizeElection(leader.finalizeWait());
        assertEquals(Role.LEADING, leader.role());
        assertNull(leader.proposalSizes(), "discovery: nothing is proposed yet, and Apache's mntr shows no leader");

        ZabStateMachine follower = new ZabStateMachine(ZabConfig.of(2, 1, 2, 3), DurableState.empty(), 1);
        follower.receive(1, new Notification(1, 0, 0, 1, Role.LEADING));
        follower.receive(3, new Notification(1, 0, 0, 1, Role.FOLLOWING));
        assertNull(follower.proposalSizes());
    }

    @Test
    void shouldStartOverWithANewLeadership() {
        ZabStateMachine leader = establishedLeaderOfTwo(200, 0);
        ProposalSizes first = leader.proposalSizes();
        proposeAndMeasureTheFrame(leader, new byte[10]);
        // The follower goes silent: after syncLimit ticks the leader looks again, then leads a new epoch.
        for (int tick = 0; tick <= 6 && leader.role() == Role.LEADING; tick++) leader.tick();
        assertEquals(Role.LOOKING, leader.role());
        assertNull(leader.proposalSizes());
        long lastZxid = leader.lastZxid();
        leader.receive(2, new Notification(1, lastZxid, 1, 100, Role.LOOKING)); // a later round: both vote for 1
        assertEquals(Role.LEADING, leader.role());
        leader.receive(2, new FollowerInfo(201, 0, 1, lastZxid));
        leader.receive(2, new AckEpoch(201, 1, true, 1, lastZxid));
        leader.receive(2, new AckNewLeader(201, 2, lastZxid));
        assertTrue(leader.isEstablishedLeader());
        assertNotSame(first, leader.proposalSizes());
        assertArrayEquals(new int[] {-1, -1, -1}, leader.proposalSizes().lastMinMax(), "a fresh leader's");
    }

    /** Proposes {@code txn} and answers the bytes of the PROPOSAL frame the leader sends, as it recorded them. */
    private static int proposeAndMeasureTheFrame(ZabStateMachine leader, byte[] txn) {
        assertTrue(leader.submit(txn));
        Ready ready = leader.ready();
        Proposal proposal = ready.messages().stream().map(Ready.Outbound::message).filter(Proposal.class::isInstance)
                .map(Proposal.class::cast).findFirst().orElseThrow();
        ByteBuf frame = Unpooled.buffer();
        try {
            ZabCodec.writeFrame(proposal, frame);
            assertEquals(frame.readableBytes(), leader.proposalSizes().lastMinMax()[0]);
            return frame.readableBytes();
        } finally {
            frame.release();
        }
    }

    /** Leader 1 of voters 1 and 2, established with voter 2's session {@code session}. */
    private static ZabStateMachine establishedLeaderOfTwo(long session, long followerZxid) {
        ZabStateMachine leader = new ZabStateMachine(ZabConfig.of(1, 1, 2), DurableState.empty(), 1);
        leader.receive(2, new Notification(1, 0, 0, 1, Role.LOOKING));
        leader.receive(2, new FollowerInfo(session, 0, 0, followerZxid));
        leader.receive(2, new AckEpoch(session, 1, true, 0, followerZxid));
        leader.receive(2, new AckNewLeader(session, 2, 0));
        assertTrue(leader.isEstablishedLeader());
        leader.ready();
        return leader;
    }
}
