package io.tandem.server.zab.apache;

import static io.tandem.server.zab.apache.ZkClients.bytes;
import static io.tandem.server.zab.apache.ZkClients.sync;
import static io.tandem.server.zab.apache.ZkClients.tree;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.ZooDefs.Ids;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.data.Stat;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 14 section 4: an uncommitted proposal and a real Apache 3.9.5 leader. The Tandem member leads two Apache
 * processes, logs a proposal while both are stopped (SIGSTOP: it reaches at most their sockets' buffers, and never
 * commits), and is killed; the stopped members are killed too (what their buffers held is gone with them), restart
 * from their own files, elect a leader of their own in a new epoch and go on. (Resuming them instead is no good: they
 * would log the proposal from their buffers, and their next leader would rightly commit it. Killing them first is no
 * good either: the leadership ends at once on their closed connections, before the proposal is made.)
 * When Tandem rejoins, its last logged zxid is one the new leader's history lacks, so Apache's leader must not answer
 * with a DIFF: it sends TRUNC or (as 3.9.5 does here, after a restart) SNAP, and Tandem drops the proposal from its
 * log, never applies it, and ends with the Apache members' tree.
 */
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class ApacheUncommittedRejoinProcessTest {
    private static final long TIMEOUT_MS = ZkClients.TIMEOUT_MS;

    @TempDir
    Path temp;

    @Test
    void aTandemMemberHoldingAnUncommittedProposalDropsItWhenItRejoinsAnApacheLeader() throws Exception {
        MixedEnsemble ensemble = new MixedEnsemble(temp, 3);
        try (TandemApacheModeProcess member = ensemble.startTandem(List.of(), List.of());
             ZkClients clients = new ZkClients()) {
            ensemble.awaitTandemListening(member);
            // Member 2 starts once Tandem leads member 1 (see MixedEnsemble.startApacheUnderTandem).
            try (ApacheQuorumProcess one = ensemble.startApacheUnderTandem(member, 1);
                 ApacheQuorumProcess two = ensemble.startApache(2)) {
                ZooKeeper onTandem = clients.connect(ensemble.tandem);
                Stat last = commitUnderTandem(ensemble, member, one, two, onTandem);

                // Both followers stall: a proposal is logged on Tandem alone and can never commit. Without a quorum
                // the leadership ends after syncLimit and Tandem looks for a leader with that proposal as its last
                // logged zxid.
                one.stop();
                two.stop();
                onTandem.create("/t/never-committed", bytes("lost"), Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT,
                        (rc, path, ctx, name) -> { }, null);
                String uncommitted = "looking for a leader (zxid 0x" + Long.toHexString(last.getCzxid() + 1);
                assertTrue(ApacheQuorumProcess.await(() -> member.logText().contains(uncommitted), TIMEOUT_MS),
                        () -> "the proposal never reached Tandem's log:\n" + member.logTail());
                member.kill();
                one.kill();
                two.kill();
                try (ApacheQuorumProcess oneAgain = ensemble.startApache(1);
                     ApacheQuorumProcess twoAgain = ensemble.startApache(2)) {
                    rejoin(ensemble, member, clients, oneAgain, twoAgain);
                }
            }
        }
    }

    /**
     * Waits until Tandem leads both Apache members and commits /t with five children through it; returns the last
     * child's Stat.
     */
    private static Stat commitUnderTandem(MixedEnsemble ensemble, TandemApacheModeProcess member,
                                          ApacheQuorumProcess one, ApacheQuorumProcess two, ZooKeeper onTandem)
            throws Exception {
        assertTrue(ApacheQuorumProcess.await(() -> ensemble.tandemMode().equals("leader")
                && one.mode().equals("follower") && two.mode().equals("follower"),
                TIMEOUT_MS), () -> "Tandem never led:\n" + member.logTail());
        onTandem.create("/t", bytes("root"), Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
        Stat last = new Stat();
        for (int i = 0; i < 5; i++) {
            onTandem.create("/t/committed-" + i, bytes("c"), Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT, last);
        }
        return last;
    }

    /**
     * The TRUNC branch against a real Apache 3.9.5 leader. As above, but nothing reaches the Apache members' history
     * after the proposal that committed last: the client that wrote is closed (its closeSession commits), so the new
     * Apache leader expires no session of it, the proposal that never commits is a new client's createSession, and no
     * client touches the Apache members before Tandem rejoins. Its last zxid is then beyond the leader's committed
     * log (LearnerHandler.syncFollower: peerLastZxid > maxCommittedLog): TRUNC to the leader's last commit. Tandem must
     * truncate as Apache's Learner does (ZKDatabase.truncateLog: the log cut above that zxid, the state the log up to
     * it holds) and then go on in the new epoch with the same tree as the Apache members.
     */
    @Test
    void aTandemMemberAheadOfARestartedApacheLeaderIsTruncatedToItsLastCommit() throws Exception {
        MixedEnsemble ensemble = new MixedEnsemble(temp, 3);
        try (TandemApacheModeProcess member = ensemble.startTandem(List.of(), List.of());
             ZkClients clients = new ZkClients()) {
            ensemble.awaitTandemListening(member);
            // Member 2 starts once Tandem leads member 1 (see MixedEnsemble.startApacheUnderTandem).
            try (ApacheQuorumProcess one = ensemble.startApacheUnderTandem(member, 1);
                 ApacheQuorumProcess two = ensemble.startApache(2)) {
                ZooKeeper onTandem = clients.connect(ensemble.tandem);
                Stat last = commitUnderTandem(ensemble, member, one, two, onTandem);
                clients.close(onTandem);
                long lastCommitted = last.getCzxid() + 1; // the closeSession
                one.stop();
                two.stop();
                ZooKeeper late = new ZooKeeper("127.0.0.1:" + ensemble.tandem.clientPort(),
                        TandemApacheModeProcess.SESSION_TIMEOUT_MS, event -> { });
                long neverCommitted = lastCommitted + 1; // its createSession
                String uncommitted = "looking for a leader (zxid 0x" + Long.toHexString(neverCommitted);
                assertTrue(ApacheQuorumProcess.await(() -> member.logText().contains(uncommitted), TIMEOUT_MS),
                        () -> "the createSession never reached Tandem's log:\n" + member.logTail());
                member.kill();
                one.kill();
                two.kill();
                late.close(1_000);
                try (ApacheQuorumProcess oneAgain = ensemble.startApache(1);
                     ApacheQuorumProcess twoAgain = ensemble.startApache(2)) {
                    assertTrue(ApacheQuorumProcess.await(() -> (oneAgain.mode() + twoAgain.mode()).matches(
                            "leaderfollower|followerleader"), TIMEOUT_MS),
                            () -> "the Apache members never re-elected:\n" + oneAgain.logTail());
                    int logLengthAtRestart = member.logText().length();
                    member.restart(List.of(), List.of());
                    ensemble.awaitTandem(member, "follower");
                    String afterRestart = member.logText().substring(logLengthAtRestart);
                    assertTrue(afterRestart.contains("TRUNC from the leader to 0x" + Long.toHexString(lastCommitted)
                            + " (logged up to 0x" + Long.toHexString(neverCommitted) + ")"), member::logTail);

                    ZooKeeper onApache = clients.connect(oneAgain.mode().equals("leader") ? oneAgain.ports
                            : twoAgain.ports);
                    ZooKeeper again = clients.connect(ensemble.tandem);
                    sync(again, "/");
                    sync(onApache, "/");
                    assertEquals(tree(onApache), tree(again), "Tandem's tree after the TRUNC");
                    onApache.create("/t/new-epoch", bytes("n"), Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
                    again.create("/t/through-tandem", null, Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
                    sync(onApache, "/");
                    sync(again, "/");
                    assertEquals(tree(onApache), tree(again), "Tandem's tree after writes in the new epoch");
                    Stat newEpoch = onApache.exists("/t/new-epoch", false);
                    assertTrue(newEpoch.getCzxid() >>> 32 > lastCommitted >>> 32, "written in the new epoch");
                }
            }
        }
    }

    private static void rejoin(MixedEnsemble ensemble, TandemApacheModeProcess member, ZkClients clients,
                               ApacheQuorumProcess one, ApacheQuorumProcess two) throws Exception {
        {
            {
                // The Apache members lead on in a new epoch without it.
                assertTrue(ApacheQuorumProcess.await(() -> (one.mode() + two.mode()).matches(
                        "leaderfollower|followerleader"), TIMEOUT_MS),
                        () -> "the Apache members never re-elected:\n" + one.logTail() + "\n" + two.logTail());
                ZooKeeper onApache = clients.connect(one.mode().equals("leader") ? one.ports : two.ports);
                onApache.create("/t/new-epoch", bytes("n"), Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
                onApache.setData("/t/committed-0", bytes("changed"), -1);

                int logLengthAtRestart = member.logText().length();
                member.restart(List.of(), List.of());
                ensemble.awaitTandem(member, "follower");
                String afterRestart = member.logText().substring(logLengthAtRestart);
                // Apache 3.9.5's leader restarted from its files answers this one with SNAP (the rejoining zxid is
                // below its in-memory committed log and not in its txn log); TRUNC when it is within that log.
                // Either way the proposal must go, never be applied.
                assertTrue(afterRestart.contains("TRUNC from the leader")
                        || afterRestart.contains("SNAP from the leader"), member::logTail);

                ZooKeeper again = clients.connect(ensemble.tandem);
                sync(again, "/");
                sync(onApache, "/");
                assertNull(again.exists("/t/never-committed", false), "the truncated proposal was applied");
                assertEquals(tree(onApache), tree(again), "Tandem's tree after the TRUNC");
                again.create("/t/after-trunc", null, Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
                sync(onApache, "/");
                assertEquals(tree(onApache), tree(again), "Tandem's tree after a write through it");
            }
        }
    }
}
