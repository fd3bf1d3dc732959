package io.tandem.server.zab;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tandem.server.zookeeper.SimulatedMember.Applied;
import io.tandem.zk.wire.OpCode;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** {@link SessionExpiryChecker} on hand-made member turns: each rule it states must reject its violation. */
class SessionExpiryCheckerTest {
    private static final long SESSION = 0x100;
    private static final long OTHER = 0x200;
    private static final long EPOCH_1 = Zxid.of(1, 0);

    private final SessionExpiryChecker checker =
            new SessionExpiryChecker(new ZabSimulator(1, 3, Faults.none(), ZabConfig.of(1, 1)));

    private static Applied create(long zxid) {
        return new Applied(zxid, OpCode.CREATE, SESSION, 1, null, 0, null);
    }

    private static Applied close(long session, long zxid, int cxid, long timeNanos) {
        return new Applied(zxid, OpCode.CLOSE_SESSION, session, cxid, null, timeNanos, null);
    }

    @Test
    void shouldAcceptEphemeralsRemovedByTheirSessionsCloseAtOneZxidEverywhere() {
        for (int member = 1; member <= 2; member++) {
            checker.afterTurn(member, List.of(create(EPOCH_1 + 1)), false, Map.of("/e", SESSION), Set.of(SESSION, OTHER));
            checker.afterTurn(member, List.of(close(SESSION, EPOCH_1 + 2, 5, 0)), false, Map.of(), Set.of(OTHER));
        }
    }

    @Test
    void shouldRejectAnEphemeralRemovedWithoutItsSessionsClose() {
        checker.afterTurn(1, List.of(create(EPOCH_1 + 1)), false, Map.of("/e", SESSION), Set.of(SESSION, OTHER));
        AssertionError error = assertThrows(AssertionError.class, () -> checker.afterTurn(1,
                List.of(close(OTHER, EPOCH_1 + 2, 5, 0)), false, Map.of(), Set.of(SESSION)));
        assertTrue(error.getMessage().contains("without applying its session's close"), error.getMessage());
    }

    @Test
    void shouldRejectAnEphemeralThatOutlivesItsSession() {
        AssertionError error = assertThrows(AssertionError.class, () -> checker.afterTurn(1,
                List.of(close(SESSION, EPOCH_1 + 2, 5, 0)), false, Map.of("/e", SESSION), Set.of(OTHER)));
        assertTrue(error.getMessage().contains("which it no longer holds"), error.getMessage());
    }

    @Test
    void shouldRejectMembersRemovingASessionsEphemeralsAtDifferentZxids() {
        checker.afterTurn(1, List.of(create(EPOCH_1 + 1)), false, Map.of("/e", SESSION), Set.of(SESSION));
        checker.afterTurn(1, List.of(close(SESSION, EPOCH_1 + 2, 5, 0)), false, Map.of(), Set.of());
        checker.afterTurn(2, List.of(create(EPOCH_1 + 1)), false, Map.of("/e", SESSION), Set.of(SESSION));
        AssertionError error = assertThrows(AssertionError.class, () -> checker.afterTurn(2,
                List.of(close(SESSION, EPOCH_1 + 3, 5, 0)), false, Map.of(), Set.of()));
        assertTrue(error.getMessage().contains("removed the ephemerals of session"), error.getMessage());
    }

    @Test
    void shouldRejectAnExpiryWithinTheTimeoutOfTheLeadersLastContact() {
        checker.contact(SESSION, 1_000, true, 1, 5_000_000_000L);
        AssertionError error = assertThrows(AssertionError.class, () -> checker.afterTurn(1,
                List.of(close(SESSION, EPOCH_1 + 2, 0, 5_900_000_000L)), false, Map.of(), Set.of()));
        assertTrue(error.getMessage().contains("expired session"), error.getMessage());
        // A full timeout after the leader last heard the client is a justified expiry.
        checker.contact(OTHER, 1_000, true, 1, 5_000_000_000L);
        checker.afterTurn(1, List.of(close(OTHER, EPOCH_1 + 3, 0, 6_000_000_001L)), false, Map.of(), Set.of());
    }
}
