package io.tandem.server.zab;

import io.tandem.server.zookeeper.SimulatedMember;
import io.tandem.zk.wire.OpCode;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Checks dynamic reconfiguration on every simulated member, after every turn that applied a reconfig transaction:
 * <ul>
 *   <li>every member that applies configuration version v applies it at the same zxid (and one zxid carries one
 *       version): v is that zxid for a client's reconfig, the first zxid of the epoch for the configuration a new
 *       leader establishes;</li>
 *   <li>a quorum of the old configuration's voters and of the new one's hold the transaction durably when it is
 *       applied (so it was acknowledged by both);</li>
 *   <li>the configuration applied names exactly the members Zab runs: Zab cannot yet change its voters, so a
 *       reconfig that adds or removes members must never commit (the server refuses it, Unimplemented), and clients are
 *       never told it succeeded ({@link SimulatedReconfigClients}).</li>
 * </ul>
 * Removed members stop answering: with no membership change committed there is none to remove yet; the check to add
 * once Zab changes voters is that a member absent from the active configuration serves no client.
 */
final class ReconfigChecker {
    private static final long EPOCH_MASK = 0xffff_ffff_0000_0000L;

    private final ZabSimulator sim;
    private final Set<Integer> runningMembers = new TreeSet<>();
    private final Set<Integer> runningVoters = new TreeSet<>();
    private final Map<Long, Long> zxidOfVersion = new HashMap<>();
    private final Map<Long, Long> versionOfZxid = new HashMap<>();
    private final Map<Long, String> textOfVersion = new HashMap<>();

    ReconfigChecker(ZabSimulator sim, int voters, int observers) {
        this.sim = sim;
        for (int id = 1; id <= voters + observers; id++) {
            runningMembers.add(id);
            if (id <= voters) {
                runningVoters.add(id);
            }
        }
    }

    void watch(SimulatedMember member) {
        member.observeTree((id, applied, snapshot, ephemerals, sessions) -> afterTurn(id, applied));
    }

    private void afterTurn(int memberId, List<SimulatedMember.Applied> applied) {
        for (SimulatedMember.Applied txn : applied) {
            if (txn.type() == OpCode.RECONFIG) {
                check(memberId, txn);
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
        for (String line : txn.config().split("\n")) {
            if (line.startsWith("server.")) {
                int id = Integer.parseInt(line.substring("server.".length(), line.indexOf('=')));
                members.add(id);
                if (!line.contains(":observer")) {
                    voters.add(id);
                }
            }
        }
        if (!members.equals(runningMembers) || !voters.equals(runningVoters)) {
            throw sim.failure("member " + memberId + " applied configuration version " + Long.toHexString(version)
                    + " with members " + members + " (voters " + voters + ") at " + Zxid.toString(txn.zxid())
                    + ", but Zab runs members " + runningMembers + " (voters " + runningVoters + ")");
        }
        if (textOfVersion.putIfAbsent(version, txn.config()) == null) {
            // First seen applied: both the old voters (Zab's, unchanged) and the new ones must hold it durably.
            requireDurableQuorum(txn.zxid(), runningVoters, "old");
            requireDurableQuorum(txn.zxid(), voters, "new");
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
