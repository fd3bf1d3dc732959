package io.tandem.server.zab;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.Comparator;
import java.util.Deque;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Checks that the history of one znode, used as a compare-and-set register, is linearizable: the Wing &amp; Gong search
 * with Lowe's memoisation (as Knossos and Porcupine do it). Every operation has an invocation and, unless its outcome is
 * unknown, a completion; an unknown one ("info": the client timed out) may take effect at any point after its
 * invocation, or never, which is the same as at the very end, so its completion is placed after everything and any
 * outcome is accepted for it. Operations a server refused before proposing them ("fail") are left out by the caller.
 *
 * <p>The register is a znode: absent, or present with a value and a version. CREATE succeeds only when absent (else
 * NODEEXISTS); SET with an expected version of -1 always writes, otherwise only at that version (else BADVERSION; NONODE
 * when absent), and answers the new version; DELETE (same version rule) makes it absent again, so a later CREATE
 * starts over at version 0; READ answers NONODE or the value and version.
 */
final class LinearizabilityChecker {
    enum Kind { CREATE, SET, DELETE, READ }

    /** What the model holds for the znode. */
    record State(boolean exists, int value, int version) {
        static final State ABSENT = new State(false, 0, -1);
    }

    /**
     * One operation: invoked at {@code invokedAt} and completed at {@code completedAt} (event numbers, one total order
     * of real time), with {@code result}; {@code completedAt == Long.MAX_VALUE} and a null result when unknown.
     */
    record Operation(int id, int client, Kind kind, int value, int expectedVersion, long invokedAt, long completedAt,
                     String result) {
        boolean unknown() {
            return result == null;
        }

        @Override
        public String toString() {
            return "op" + id + "[client " + client + " " + kind + (kind == Kind.READ ? "" : " " + value)
                    + (kind == Kind.SET || kind == Kind.DELETE ? " @" + expectedVersion : "") + " " + invokedAt + ".."
                    + (unknown() ? "?" : completedAt + " -> " + result) + "]";
        }
    }

    enum Verdict { LINEARIZABLE, NOT_LINEARIZABLE, UNKNOWN }

    private LinearizabilityChecker() {}

    /** The outcome of applying {@code op} to {@code state}, and the state after it. */
    record Step(String result, State state) {}

    static Step apply(State state, Operation op) {
        return switch (op.kind()) {
            case READ -> new Step(state.exists() ? "v:" + state.value() + ":" + state.version() : "NONODE", state);
            case CREATE -> state.exists() ? new Step("NODEEXISTS", state)
                    : new Step("ok", new State(true, op.value(), 0));
            case SET -> {
                if (!state.exists()) {
                    yield new Step("NONODE", state);
                }
                if (op.expectedVersion() != -1 && op.expectedVersion() != state.version()) {
                    yield new Step("BADVERSION", state);
                }
                yield new Step("ok:" + (state.version() + 1), new State(true, op.value(), state.version() + 1));
            }
            case DELETE -> {
                if (!state.exists()) {
                    yield new Step("NONODE", state);
                }
                if (op.expectedVersion() != -1 && op.expectedVersion() != state.version()) {
                    yield new Step("BADVERSION", state);
                }
                yield new Step("ok", State.ABSENT);
            }
        };
    }

    private static final class Entry {
        final Operation op;
        final int index;
        final boolean call;
        Entry match;
        Entry prev;
        Entry next;

        Entry(Operation op, int index, boolean call) {
            this.op = op;
            this.index = index;
            this.call = call;
        }
    }

    private record Frame(Entry call, State before) {}

    private record Key(BitSet linearized, State state) {}

    /** Searches for a linearization, giving up (UNKNOWN) after {@code stepsMax} search steps. */
    static Verdict check(List<Operation> history, long stepsMax) {
        List<Entry> events = new ArrayList<>();
        for (int i = 0; i < history.size(); i++) {
            Operation op = history.get(i);
            Entry call = new Entry(op, i, true);
            Entry ret = new Entry(op, i, false);
            call.match = ret;
            ret.match = call;
            events.add(call);
            events.add(ret);
        }
        events.sort(Comparator.comparingLong((Entry e) -> e.call ? e.op.invokedAt() : e.op.completedAt())
                .thenComparing(e -> !e.call)); // an unknown operation's completion is last; calls before returns
        Entry head = new Entry(null, -1, false);
        Entry last = head;
        for (Entry entry : events) {
            last.next = entry;
            entry.prev = last;
            last = entry;
        }
        State state = State.ABSENT;
        BitSet linearized = new BitSet(history.size());
        Set<Key> seen = new HashSet<>();
        Deque<Frame> stack = new ArrayDeque<>();
        Entry entry = head.next;
        long steps = 0;
        while (head.next != null) {
            if (++steps > stepsMax) {
                return Verdict.UNKNOWN;
            }
            if (entry.call) {
                Step step = apply(state, entry.op);
                if (entry.op.unknown() || step.result().equals(entry.op.result())) {
                    BitSet next = (BitSet) linearized.clone();
                    next.set(entry.index);
                    if (seen.add(new Key(next, step.state()))) {
                        stack.push(new Frame(entry, state));
                        state = step.state();
                        linearized = (BitSet) next.clone();
                        lift(entry);
                        entry = head.next;
                        continue;
                    }
                }
                entry = entry.next;
            } else {
                // A completion before its operation could be placed: undo the latest choice and try the next one.
                if (stack.isEmpty()) {
                    return Verdict.NOT_LINEARIZABLE;
                }
                Frame frame = stack.pop();
                state = frame.before();
                linearized.clear(frame.call().index);
                unlift(frame.call());
                entry = frame.call().next;
            }
        }
        return Verdict.LINEARIZABLE;
    }

    private static void lift(Entry call) {
        call.prev.next = call.next;
        call.next.prev = call.prev;
        Entry ret = call.match;
        ret.prev.next = ret.next;
        if (ret.next != null) {
            ret.next.prev = ret.prev;
        }
    }

    private static void unlift(Entry call) {
        Entry ret = call.match;
        ret.prev.next = ret;
        if (ret.next != null) {
            ret.next.prev = ret;
        }
        call.prev.next = call;
        call.next.prev = call;
    }
}
