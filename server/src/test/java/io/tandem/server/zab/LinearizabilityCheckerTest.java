package io.tandem.server.zab;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.tandem.server.zab.LinearizabilityChecker.Kind;
import io.tandem.server.zab.LinearizabilityChecker.Operation;
import io.tandem.server.zab.LinearizabilityChecker.Verdict;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The checker on hand-written znode histories: it accepts what a register allows and rejects what it does not. */
class LinearizabilityCheckerTest {
    private static final long UNKNOWN = Long.MAX_VALUE;
    private static final long STEPS_MAX = 1_000_000;

    private static Operation op(int id, Kind kind, int value, int expected, long invoked, long completed,
                                String result) {
        return new Operation(id, id, kind, value, expected, invoked, completed, result);
    }

    private static Verdict check(Operation... history) {
        return LinearizabilityChecker.check(List.of(history), STEPS_MAX);
    }

    @Test
    void shouldAcceptConcurrentWritesInEitherOrder() {
        assertEquals(Verdict.LINEARIZABLE, check(
                op(1, Kind.CREATE, 1, -1, 1, 2, "ok"),
                op(2, Kind.SET, 2, -1, 3, 6, "ok:2"),
                op(3, Kind.SET, 3, -1, 4, 5, "ok:1"),
                op(4, Kind.READ, 0, -1, 7, 8, "v:2:2")));
    }

    @Test
    void shouldRejectAReadOfAnOverwrittenValue() {
        assertEquals(Verdict.NOT_LINEARIZABLE, check(
                op(1, Kind.CREATE, 1, -1, 1, 2, "ok"),
                op(2, Kind.SET, 2, -1, 3, 4, "ok:1"),
                op(3, Kind.READ, 0, -1, 5, 6, "v:1:0")));
    }

    @Test
    void shouldRejectTwoSetsThatBothSucceedAtTheSameExpectedVersion() {
        assertEquals(Verdict.NOT_LINEARIZABLE, check(
                op(1, Kind.CREATE, 1, -1, 1, 2, "ok"),
                op(2, Kind.SET, 2, 0, 3, 6, "ok:1"),
                op(3, Kind.SET, 3, 0, 4, 5, "ok:2")));
    }

    @Test
    void shouldLetAnOperationWithUnknownOutcomeTakeEffectLateOrNever() {
        // The timed-out set takes effect between the two reads.
        assertEquals(Verdict.LINEARIZABLE, check(
                op(1, Kind.CREATE, 1, -1, 1, 2, "ok"),
                op(2, Kind.SET, 2, 0, 3, UNKNOWN, null),
                op(3, Kind.READ, 0, -1, 4, 5, "v:1:0"),
                op(4, Kind.READ, 0, -1, 6, 7, "v:2:1")));
        // ... or never does.
        assertEquals(Verdict.LINEARIZABLE, check(
                op(1, Kind.CREATE, 1, -1, 1, 2, "ok"),
                op(2, Kind.SET, 2, 0, 3, UNKNOWN, null),
                op(3, Kind.READ, 0, -1, 4, 5, "v:1:0")));
        // But it cannot take effect before it was invoked.
        assertEquals(Verdict.NOT_LINEARIZABLE, check(
                op(1, Kind.CREATE, 1, -1, 1, 2, "ok"),
                op(2, Kind.READ, 0, -1, 3, 4, "v:2:1"),
                op(3, Kind.SET, 2, 0, 5, UNKNOWN, null)));
    }

    @Test
    void shouldCheckErrorsAgainstTheStateToo() {
        assertEquals(Verdict.NOT_LINEARIZABLE, check(
                op(1, Kind.CREATE, 1, -1, 1, 2, "ok"),
                op(2, Kind.CREATE, 2, -1, 3, 4, "ok")));
        assertEquals(Verdict.NOT_LINEARIZABLE, check(
                op(1, Kind.SET, 1, -1, 1, 2, "ok:1")));
        assertEquals(Verdict.LINEARIZABLE, check(
                op(1, Kind.SET, 1, -1, 1, 4, "NONODE"),
                op(2, Kind.CREATE, 2, -1, 2, 3, "ok"),
                op(3, Kind.SET, 3, 5, 5, 6, "BADVERSION")));
    }

    @Test
    void shouldModelADeleteAsMakingTheZnodeAbsentUntilItIsCreatedAgainAtVersionZero() {
        assertEquals(Verdict.LINEARIZABLE, check(
                op(1, Kind.CREATE, 1, -1, 1, 2, "ok"),
                op(2, Kind.DELETE, 2, 0, 3, 4, "ok"),
                op(3, Kind.READ, 0, -1, 5, 6, "NONODE"),
                op(4, Kind.DELETE, 4, -1, 7, 8, "NONODE"),
                op(5, Kind.CREATE, 5, -1, 9, 10, "ok"),
                op(6, Kind.READ, 0, -1, 11, 12, "v:5:0")));
        // A read after the delete completed cannot see the deleted value, and a delete checks the version.
        assertEquals(Verdict.NOT_LINEARIZABLE, check(
                op(1, Kind.CREATE, 1, -1, 1, 2, "ok"),
                op(2, Kind.DELETE, 2, -1, 3, 4, "ok"),
                op(3, Kind.READ, 0, -1, 5, 6, "v:1:0")));
        assertEquals(Verdict.NOT_LINEARIZABLE, check(
                op(1, Kind.CREATE, 1, -1, 1, 2, "ok"),
                op(2, Kind.DELETE, 2, 3, 3, 4, "ok")));
    }
}
