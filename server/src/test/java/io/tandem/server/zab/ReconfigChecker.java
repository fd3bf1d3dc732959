package io.tandem.server.zab;

import io.tandem.server.zookeeper.SimulatedMember;
import io.tandem.zk.wire.OpCode;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Checks dynamic reconfiguration on every simulated member, after every turn that applied a reconfig transaction:
 * <ul>
 *   <li>every member that applies configuration version v applies it at the same zxid (and one zxid carries one
 *       version): v is that zxid for a client's reconfig, the first zxid of the epoch for the configuration a new
 *       leader establishes;</li>
 *   <li>a quorum of the old configuration's voters and of the new one's hold the transaction durably when it is
 *       applied (so it was acknowledged by both);</li>
 *   <li>the configuration applied names exactly the members the member's Zab runs once the turn is over (Zab
 *       activates a reconfig as it commits it), and a member it does not name is a joiner: its Zab follows as a
 *       non-voter (Apache's non-voting participant), counting for no quorum;</li>
 *   <li>a client told OK got a configuration the members applied ({@link SimulatedReconfigClients}).</li>
 * </ul>
 * The configurations by zxid give the simulator the voters in force for its durability check and the members its
 * end-of-run checks expect to converge (a removed one need not: nothing waits for a non-voter).
 */
final class ReconfigChecker {
    private static final long EPOCH_MASK = 0xffff_ffff_0000_0000L;

    private final ZabSimulator sim;
    /** Members and voters of each committed configuration by the zxid it was committed at (0: zoo.cfg's). */
    private final TreeMap<Long, Set<Integer>> membersAt = new TreeMap<>();
    private final TreeMap<Long, Set<Integer>> votersAt = new TreeMap<>();
    private final Map<Long, Long> zxidOfVersion = new HashMap<>();
    private final Map<Long, Long> versionOfZxid = new HashMap<>();
    private final Map<Long, String> textOfVersion = new HashMap<>();

    ReconfigChecker(ZabSimulator sim, int voters, int observers) {
        this.sim = sim;
        Set<Integer> members = new TreeSet<>();
        Set<Integer> voterIds = new TreeSet<>();
        for (int id = 1; id <= voters + observers; id++) {
            members.add(id);
            if (id <= voters) {
                voterIds.add(id);
            }
        }
        membersAt.put(0L, members);
        votersAt.put(0L, voterIds);
    }

    Set<Integer> votersAt(long zxid) {
        return votersAt.floorEntry(zxid).getValue();
    }

    boolean isVoter(int id) {
        return votersAt.lastEntry().getValue().contains(id);
    }

    boolean isMember(int id) {
        return membersAt.lastEntry().getValue().contains(id);
    }

    void watch(SimulatedMember member) {
        member.observeTree((id, applied, snapshot, ephemerals, sessions) -> afterTurn(id, applied));
    }

    private void afterTurn(int memberId, List<SimulatedMember.Applied> applied) {
        SimulatedMember.Applied last = null;
        for (SimulatedMember.Applied txn : applied) {
            if (txn.type() == OpCode.RECONFIG) {
                check(memberId, txn);
                last = txn;
            }
        }
        if (last != null) {
            checkZabRuns(memberId, last);
        }
    }

    /** After the turn: the member's Zab runs the configuration it applied last, or is removed if it is not named. */
    private void checkZabRuns(int memberId, SimulatedMember.Applied txn) {
        SimulatedNode node = sim.node(memberId);
        if (node.machine == null) {
            return;
        }
        Set<Integer> members = new TreeSet<>();
        Set<Integer> voters = new TreeSet<>();
        parse(txn.config(), members, voters);
        ZabStateMachine machine = node.machine;
        if (machine.committedZxid() != node.member.lastProcessedZxid()) {
            return; // Zab committed (and activated) more than the member applied yet: compared once caught up
        }
        if (!members.contains(memberId)) {
            // A joiner (a server not added yet, or one a reconfig removed, running on or started again) follows as a
            // non-voter, as Apache's non-voting participant.
            if (!machine.isJoining()) {
                throw sim.failure("member " + memberId + " applied configuration " + Long.toHexString(
                        version(txn.config())) + " without it but its Zab is " + machine + " and it "
                        + (node.member.serving() ? "serves" : "does not serve"));
            }
            return;
        }
        Set<Integer> zabVoters = new TreeSet<>();
        Set<Integer> zabMembers = new TreeSet<>();
        for (int id : machine.config().voters()) {
            zabVoters.add(id);
            zabMembers.add(id);
        }
        for (int id : machine.config().observers()) {
            zabMembers.add(id);
        }
        if ((!zabVoters.equals(voters) || !zabMembers.equals(members))) {
            throw sim.failure("member " + memberId + " applied configuration " + Long.toHexString(version(txn.config()))
                    + " with members " + members + " (voters " + voters + ") but its Zab runs " + zabMembers
                    + " (voters " + zabVoters + ")");
        }
    }

    private static void parse(String config, Set<Integer> members, Set<Integer> voters) {
        for (String line : config.split("\n")) {
            if (line.startsWith("server.")) {
                int id = Integer.parseInt(line.substring("server.".length(), line.indexOf('=')));
                members.add(id);
                if (!line.contains(":observer")) {
                    voters.add(id);
                }
            }
        }
    }

    private void check(int memberId, SimulatedMember.Applied txn) {
        long version = version(txn.config());
        boolean establishing = txn.sessionId() == 0;
        long expected = establishing ? txn.zxid() & EPOCH_MASK : txn.zxid();
        if (version != expected) {
            throw sim.failure("member " + memberId + " applied the reconfig at " + Zxid.toString(txn.zxid())
                    + " as version " + Long.toHexString(version) + ", expected " + Long.toHexString(expected)
                    + (establishing ? " (a new leader's established configuration)" : ""));
        }
        Long zxid = zxidOfVersion.putIfAbsent(version, txn.zxid());
        Long otherVersion = versionOfZxid.putIfAbsent(txn.zxid(), version);
        if ((zxid != null && zxid != txn.zxid()) || (otherVersion != null && otherVersion != version)) {
            throw sim.failure("member " + memberId + " applied configuration version " + Long.toHexString(version)
                    + " at " + Zxid.toString(txn.zxid()) + "; another member applied version "
                    + Long.toHexString(otherVersion == null ? version : otherVersion) + " at "
                    + Zxid.toString(zxid == null ? txn.zxid() : zxid));
        }
        Set<Integer> members = new TreeSet<>();
        Set<Integer> voters = new TreeSet<>();
        parse(txn.config(), members, voters);
        if (textOfVersion.putIfAbsent(version, txn.config()) == null) {
            // First seen applied: the voters before it and the new ones must both hold it durably.
            requireDurableQuorum(txn.zxid(), votersAt(txn.zxid() - 1), "old");
            requireDurableQuorum(txn.zxid(), voters, "new");
            membersAt.put(txn.zxid(), members);
            votersAt.put(txn.zxid(), voters);
            if (!voters.equals(votersAt(txn.zxid() - 1))) {
                sim.count("reconfig changing the voters committed");
            }
            if (!members.containsAll(membersAt.floorEntry(txn.zxid() - 1).getValue())) {
                sim.count("reconfig removing a member committed");
            }
            sim.count(establishing ? "configuration established by a new leader" : "reconfig committed");
        } else if (!textOfVersion.get(version).equals(txn.config())) {
            throw sim.failure("member " + memberId + " applied configuration version " + Long.toHexString(version)
                    + " as\n" + txn.config() + "\nanother member as\n" + textOfVersion.get(version));
        }
    }

    private void requireDurableQuorum(long zxid, Set<Integer> voters, String which) {
        int durable = 0;
        for (int id : voters) {
            if (sim.durableOn(id, zxid)) {
                durable++;
            }
        }
        if (durable < voters.size() / 2 + 1) {
            throw sim.failure("the reconfig at " + Zxid.toString(zxid) + " is applied while only " + durable
                    + " of the " + which + " configuration's voters " + voters + " hold it durably");
        }
    }

    /** A client was told its reconfig succeeded with this configuration: it must be one the members applied. */
    void acknowledged(String config, int memberId) {
        long version = version(config);
        String applied = textOfVersion.get(version);
        if (applied == null || !applied.equals(config)) {
            throw sim.failure("member " + memberId + " answered a reconfig with configuration version "
                    + Long.toHexString(version) + " that no member applied as such (applied: " + applied + ")");
        }
        sim.count("reconfig acknowledged to its client");
    }

    private static long version(String config) {
        for (String line : config.split("\n")) {
            if (line.startsWith("version=")) {
                return Long.parseUnsignedLong(line.substring("version=".length()).trim(), 16);
            }
        }
        return 0;
    }
}
