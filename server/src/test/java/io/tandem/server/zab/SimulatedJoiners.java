package io.tandem.server.zab;

import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeSet;

/**
 * Joiners in the member simulation (issue 14): servers with the ids after the voters and observers, whose zoo.cfg names
 * the ensemble and themselves, as an Apache server to be added by a reconfig is started. They start part way through
 * the faulty phase (and crash, restart and get partitioned like everyone), find the ensemble's configuration without
 * them in its notifications and follow its leader as non-voting learners; the reconfig clients add them (and members
 * removed earlier) as voters or observers and remove them again.
 *
 * <p>The invariant checked after every step: no member counts a server as a voter before a configuration making it one
 * has committed (Zab counts a pending reconfig's new voters only in a joint quorum with the active ones, never
 * alone). The one exception is a joiner's view of itself before it learned the ensemble's configuration: its zoo.cfg
 * names it, but nobody else counts its vote. So a joiner's vote never counts before the reconfig that adds it commits.
 */
final class SimulatedJoiners {
    private final ZabSimulator sim;
    private final int[] ids;
    /** When each joiner starts, by index. */
    private final long[] startSteps;
    /** zoo.cfg's voters and every voter of a configuration committed so far. */
    private final Set<Integer> committedVoters = new TreeSet<>();
    private final Set<Integer> committedMembers = new TreeSet<>();
    private int committedSeen;
    private MembershipReader reader;
    /** Joiners counted serving as non-voters since they last started. */
    private final Set<Integer> seenServing = new TreeSet<>();

    SimulatedJoiners(ZabSimulator sim, int firstId, int count, long seed) {
        this.sim = sim;
        this.ids = new int[count];
        this.startSteps = new long[count];
        SplittableRandom random = new SplittableRandom(seed ^ 0x701E_4E25L);
        for (int i = 0; i < count; i++) {
            ids[i] = firstId + i;
            startSteps[i] = (long) ZabSimulator.TICK_STEPS * (10 + random.nextInt(150));
        }
        for (int id : sim.voterIds) {
            committedVoters.add(id);
            committedMembers.add(id);
        }
        for (int id : sim.observerIds) {
            committedMembers.add(id);
        }
    }

    boolean isJoiner(int id) {
        return Arrays.stream(ids).anyMatch(joiner -> joiner == id);
    }

    /** The step the joiner starts at; it is down before. */
    long startStep(int id) {
        return startSteps[id - ids[0]];
    }

    /** The voters of a node's zoo.cfg: the ensemble's, and a joiner itself. */
    int[] zooCfgVoters(int id) {
        if (!isJoiner(id)) {
            return sim.voterIds;
        }
        int[] voters = Arrays.copyOf(sim.voterIds, sim.voterIds.length + 1);
        voters[sim.voterIds.length] = id;
        return voters;
    }

    void onStart(SimulatedNode node) {
        seenServing.remove(node.id);
        if (isJoiner(node.id)) {
            sim.count(node.restarts == 1 ? "joiner started" : committedMembers.contains(node.id)
                    ? "joiner restarted after a reconfig added it" : "joiner restarted before a reconfig added it");
        } else if (!committedMembers.contains(node.id) || !sim.isMember(node.id)) {
            sim.count("member started again after a reconfig removed it");
        }
    }

    /** The invariant (see the class comment), and what the joiners did, after every step. */
    void afterStep() {
        learnCommittedConfigurations();
        for (SimulatedNode node : sim.nodes) {
            if (!node.isUp()) {
                continue;
            }
            ZabStateMachine machine = node.machine;
            for (int voter : machine.config().voters()) {
                if (committedVoters.contains(voter)
                        || (voter == node.id && machine.membership.activeConfigZxid() == 0)) {
                    continue;
                }
                throw sim.failure("node " + node.id + " counts server " + voter + " as a voter before a configuration"
                        + " making it one committed: " + machine + " voters "
                        + Arrays.toString(machine.config().voters())
                        + (machine.isJoining() ? " (joining)" : "") + " configuration 0x"
                        + Long.toHexString(machine.membership.activeConfigZxid()));
            }
            if (machine.isJoining() && machine.isServing() && seenServing.add(node.id)) {
                sim.count(isJoiner(node.id) ? "joiner serving as a non-voting follower"
                        : "removed member serving as a non-voting follower after its restart");
            }
        }
    }

    private void learnCommittedConfigurations() {
        List<LogEntry> committed = sim.checker().committed();
        if (reader == null) {
            for (SimulatedNode node : sim.nodes) {
                if (node.member != null) {
                    reader = node.member.membershipReader();
                    break;
                }
            }
            if (reader == null) {
                return;
            }
        }
        for (; committedSeen < committed.size(); committedSeen++) {
            Members members = reader.membersOf(committed.get(committedSeen).txn());
            if (members == null) {
                continue;
            }
            for (int voter : members.voters()) {
                if (committedVoters.add(voter) && isJoiner(voter)) {
                    sim.count("joiner made a voter by a reconfig");
                }
                committedMembers.add(voter);
            }
            for (int observer : members.observers()) {
                if (committedMembers.add(observer) && isJoiner(observer)) {
                    sim.count("joiner made an observer by a reconfig");
                }
            }
        }
    }
}
