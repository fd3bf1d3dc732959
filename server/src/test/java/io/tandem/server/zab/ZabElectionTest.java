package io.tandem.server.zab;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tandem.server.zab.ZabMessage.Notification;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Fast leader election driven by hand: how fast two survivors of a dead leader agree, without any tick. */
class ZabElectionTest {
    static final java.util.logging.Logger ZAB_LOGGER = ZabSimulationTest.quietZabLogging();

    @Test
    void shouldAnswerASameRoundVoteWorseThanItsOwn() {
        ZabStateMachine machine = new ZabStateMachine(ZabConfig.of(2, 1, 2, 3), DurableState.empty(), 1);
        machine.ready(); // its first vote, for itself
        machine.receive(1, new Notification(1, 0, 0, 1, Role.LOOKING)); // server 1 votes for itself in round 1
        List<Ready.Outbound> answers = machine.ready().messages();
        assertTrue(answers.stream().anyMatch(out -> out.to() == 1 && out.message() instanceof Notification n
                        && n.leader() == 2 && n.senderState() == Role.LOOKING),
                "server 1 has not seen the better vote for 2: it must hear it now, not at the next tick: " + answers);
    }

    /**
     * The race of a leader's death seen a moment apart: server 2 looks first and its vote reaches server 1 while 1
     * still follows (answered, not counted); then 1 looks and votes for itself. Without a tick, 2 must lead and 1 follow.
     */
    @Test
    void shouldElectWithoutATickWhenTheBetterVoteReachedTheOtherSurvivorBeforeItLooked() {
        ZabStateMachine one = new ZabStateMachine(ZabConfig.of(1, 1, 2, 3), DurableState.empty(), 1);
        ZabStateMachine two = new ZabStateMachine(ZabConfig.of(2, 1, 2, 3), DurableState.empty(), 1);
        one.peerDisconnected(3);
        two.peerDisconnected(3);
        two.ready(); // server 2's vote for itself: lost (at server 1 it was only answered)
        Map<Integer, ZabStateMachine> members = Map.of(1, one, 2, two);
        Deque<Object[]> inFlight = new ArrayDeque<>();
        for (Ready.Outbound out : one.ready().messages()) {
            inFlight.add(new Object[] {1, out});
        }
        int delivered = 0;
        while (!inFlight.isEmpty() && delivered++ < 1000) {
            Object[] next = inFlight.poll();
            int from = (Integer) next[0];
            Ready.Outbound out = (Ready.Outbound) next[1];
            ZabStateMachine to = members.get(out.to());
            if (to == null) {
                continue; // server 3 is dead
            }
            to.receive(from, out.message());
            while (to.hasReady()) {
                Ready ready = to.ready();
                for (Ready.Outbound reply : ready.messages()) {
                    inFlight.add(new Object[] {out.to(), reply});
                }
            }
        }
        assertEquals(Role.LEADING, two.role(), "server 2 has the better vote (same history, higher id)");
        assertEquals(Role.FOLLOWING, one.role());
    }
}
