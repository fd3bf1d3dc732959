package io.tandem.server.zab;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The simulator's safety checkers, called by {@link ZabSimulator} after every step and tick. The committed history is
 * the longest sequence any node applied; every node's applied sequence must be a prefix of it, so nothing applied (and
 * thus acknowledged to a client) can ever be lost or reordered.
 */
final class HistoryChecker {
    /** The probe and order of {@link #syncedEntry}'s search. */
    private static final byte[] NO_TXN = new byte[0];
    private static final java.util.Comparator<LogEntry> BY_ZXID = java.util.Comparator.comparingLong(LogEntry::zxid);

    private final ZabSimulator sim;

    private final List<LogEntry> committed = new ArrayList<>();
    private final List<Long> digestAfter = new ArrayList<>();
    private final Map<Long, Integer> indexOfZxid = new HashMap<>();
    private final Map<String, Long> zxidOfTxn = new HashMap<>();
    private final Map<Long, Integer> leaderOfEpoch = new TreeMap<>();

    HistoryChecker(ZabSimulator simulator) {
        this.sim = simulator;
    }

    List<LogEntry> committed() {
        return committed;
    }

    Map<Long, Integer> leaderOfEpoch() {
        return leaderOfEpoch;
    }

    void onApply(SimulatedNode node, LogEntry entry) {
        long previous = node.app.appliedZxid;
        Integer index = indexOfZxid.get(entry.zxid());
        if (index != null) {
            long expectedPrevious = index == 0 ? 0 : committed.get(index - 1).zxid();
            if (previous != expectedPrevious || !committed.get(index).equals(entry)) {
                throw sim.failure("node " + node.id + " applied " + entry + " after " + Zxid.toString(previous)
                        + " but the committed history has " + committed.get(index) + " after "
                        + Zxid.toString(expectedPrevious));
            }
            return;
        }
        long last = committed.isEmpty() ? 0 : committed.get(committed.size() - 1).zxid();
        if (previous != last || entry.zxid() <= last) {
            throw sim.failure("node " + node.id + " applied " + entry + " after " + Zxid.toString(previous)
                    + ", diverging from the committed history ending at " + Zxid.toString(last));
        }
        // ISO-8859-1 maps every byte to one char: a member's binary transactions stay distinct (as UTF-8, invalid
        // bytes all became U+FFFD, and two syncs of one session differing only in cxid and time looked equal).
        String txn = new String(entry.txn(), StandardCharsets.ISO_8859_1);
        Long earlier = sim.members && isFailedInternalRequest(entry.txn()) ? null
                : zxidOfTxn.putIfAbsent(txn, entry.zxid());
        if (earlier != null) {
            throw sim.failure("transaction " + (sim.members ? SimulatedNode.describeMemberTxn(entry.txn()) : txn)
                    + " committed twice, at " + Zxid.toString(earlier) + " and " + Zxid.toString(entry.zxid()));
        }
        indexOfZxid.put(entry.zxid(), committed.size());
        committed.add(entry);
        digestAfter.add(SimulatedApp.fold(node.app.digest, entry));
    }

    /**
     * Whether a member's transaction is the error txn of a request no client made. The leader's ContainerSweeper
     * posts its deleteContainer requests as session 0, cxid 0, as Apache's ContainerManager does; a sweep that finds
     * containers whose deletion is still outstanding (proposed, not yet applied: the candidates come from the applied
     * tree, as in Apache) prepares NONODE for each, and two such error txns of one sweep carry no path and one time,
     * so they are equal byte for byte without being one request committed twice. A client's txn always carries its
     * session id, so only these are exempt.
     */
    static boolean isFailedInternalRequest(byte[] txn) {
        io.tandem.zk.wire.txn.TxnHeader header;
        try {
            header = io.tandem.zk.wire.txn.TxnHeader.read(
                    new io.tandem.zk.wire.JuteInput(io.netty.buffer.Unpooled.wrappedBuffer(txn)));
        } catch (RuntimeException e) {
            return false; // not a ZooKeeper transaction
        }
        return header.clientId() == 0 && header.type() == io.tandem.zk.wire.OpCode.ERROR;
    }

    void onSnapshotInstalled(SimulatedNode node) {
        checkAppMatchesHistory(node, "installed a snapshot");
    }

    void onRestart(SimulatedNode node) {
        checkAppMatchesHistory(node, "restarted from its snapshot");
    }

    private void checkAppMatchesHistory(SimulatedNode node, String what) {
        long zxid = node.app.appliedZxid;
        if (zxid == 0) {
            return;
        }
        Integer index = indexOfZxid.get(zxid);
        if (index == null || digestAfter.get(index) != node.app.digest) {
            throw sim.failure("node " + node.id + " " + what + " at " + Zxid.toString(zxid)
                    + " that does not match the committed history");
        }
    }

    void afterStep() {
        for (SimulatedNode node : sim.nodes) {
            if (!node.isUp()) {
                continue;
            }
            ZabStateMachine machine = node.machine;
            if (machine.role() == Role.LEADING && !machine.config().isVoter(node.id)) {
                throw sim.failure("observer " + node.id + " leads");
            }
            if (machine.isEstablishedLeader()) {
                Integer other = leaderOfEpoch.putIfAbsent(machine.epoch(), node.id);
                if (other != null && other != node.id) {
                    throw sim.failure("two leaders established in epoch " + machine.epoch() + ": " + other + " and "
                            + node.id);
                }
            }
            if (machine.committedZxid() != node.app.appliedZxid) {
                throw sim.failure("node " + node.id + " machine committed " + Zxid.toString(machine.committedZxid())
                        + " but the application applied " + Zxid.toString(node.app.appliedZxid));
            }
            if (node.disk.acceptedEpoch < node.disk.currentEpoch) {
                throw sim.failure("node " + node.id + " durable acceptedEpoch below currentEpoch");
            }
        }
    }

    /**
     * Every committed transaction stays durable on a quorum (in the fsynced log or under a snapshot): acks are
     * sent only after fsync and truncation never reaches committed entries. Checks the newest entries each tick.
     */
    void checkCommittedDurableOnQuorum() {
        // Observers hold copies too, but only voters make quorums: those of the configuration in force at each
        // entry (a reconfig changes them; the reconfig checker checks the reconfig itself against both).
        int from = Math.max(0, committed.size() - 64);
        for (int i = from; i < committed.size(); i++) {
            LogEntry entry = committed.get(i);
            java.util.Set<Integer> voters = sim.votersAt(entry.zxid());
            int quorum = voters.size() / 2 + 1;
            int holders = 0;
            for (int n = 0; n < sim.nodes.length; n++) {
                if (!voters.contains(sim.nodes[n].id)) {
                    continue;
                }
                // A node whose disk was damaged still counts: it lost the entry, but until re-synced it is in no
                // quorum, so every quorum that can act still meets a holder (the rule in ZabStateMachine).
                if (entry.equals(syncedEntry(sim.nodes[n].disk, entry.zxid()))
                        || snapshotCovers(sim.nodes[n].disk, entry.zxid()) || sim.nodes[n].disk.recovering) {
                    holders++;
                }
            }
            if (holders < quorum) {
                throw sim.failure("committed " + entry + " is durable on only " + holders + " servers");
            }
        }
    }

    /**
     * The disk's synced entry of {@code zxid}, or null: a binary search, since the synced log is in zxid order (a
     * disk appends only past its last zxid and syncs its unsynced tail in order). This check runs every tick, and
     * indexing every node's whole log for it each time was a tenth of a member simulation's time.
     */
    private static LogEntry syncedEntry(SimulatedDisk disk, long zxid) {
        int at = java.util.Collections.binarySearch(disk.synced, new LogEntry(zxid, NO_TXN), BY_ZXID);
        return at >= 0 ? disk.synced.get(at) : null;
    }

    private boolean snapshotCovers(SimulatedDisk disk, long zxid) {
        return disk.snapshot != null && disk.snapshotZxid >= zxid;
    }

    /** After healing: everyone applied the same history, and it is the whole committed history. */
    void checkConverged() {
        long lastZxid = committed.isEmpty() ? 0 : committed.get(committed.size() - 1).zxid();
        long digest = committed.isEmpty() ? 0 : digestAfter.get(digestAfter.size() - 1);
        for (SimulatedNode node : sim.nodes) {
            if (!sim.isMember(node.id)) {
                continue; // removed by a reconfig: it applies nothing more
            }
            if (!node.isUp()) {
                throw sim.failure("node " + node.id + " still down after healing");
            }
            if (node.app.appliedZxid != lastZxid || node.app.digest != digest) {
                throw sim.failure("node " + node.id + " applied up to " + Zxid.toString(node.app.appliedZxid)
                        + " but the committed history ends at " + Zxid.toString(lastZxid));
            }
        }
    }
}
