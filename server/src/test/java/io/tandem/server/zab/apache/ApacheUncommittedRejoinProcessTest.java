package io.tandem.server.zab.apache;

import static io.tandem.server.zab.apache.ZkClients.bytes;
import static io.tandem.server.zab.apache.ZkClients.sync;
import static io.tandem.server.zab.apache.ZkClients.tree;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tandem.server.zab.apache.ApacheQuorumProcess.Ports;
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
        Ports apache1 = Ports.fresh(1);
        Ports apache2 = Ports.fresh(2);
        Ports tandem = Ports.fresh(3);
        List<String> apacheExtra = List.of("maxSessionTimeout=" + TandemApacheModeProcess.SESSION_TIMEOUT_MS);
        try (TandemApacheModeProcess member = TandemApacheModeProcess.start(temp.resolve("tandem"), List.of(),
                     List.of(), tandem, apache1, apache2, tandem);
             ZkClients clients = new ZkClients()) {
            assertTrue(ApacheQuorumProcess.await(() -> !ApacheQuorumProcess.modeAt(tandem.clientPort())
                    .equals("down"), TIMEOUT_MS), () -> "Tandem never listened:\n" + member.logTail());
            try (ApacheQuorumProcess one = ApacheQuorumProcess.start(temp.resolve("1"), apacheExtra, apache1,
                         apache1, apache2, tandem);
                 ApacheQuorumProcess two = ApacheQuorumProcess.start(temp.resolve("2"), apacheExtra, apache2,
                         apache1, apache2, tandem)) {
                assertTrue(ApacheQuorumProcess.await(() -> ApacheQuorumProcess.modeAt(tandem.clientPort())
                        .equals("leader") && one.mode().equals("follower") && two.mode().equals("follower"),
                        TIMEOUT_MS), () -> "Tandem never led:\n" + member.logTail());
                ZooKeeper onTandem = clients.connect(tandem);
                onTandem.create("/t", bytes("root"), Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
                Stat last = new Stat();
                for (int i = 0; i < 5; i++) {
                    onTandem.create("/t/committed-" + i, bytes("c"), Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT,
                            last);
                }

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
                try (ApacheQuorumProcess oneAgain = ApacheQuorumProcess.start(temp.resolve("1"), apacheExtra,
                             apache1, apache1, apache2, tandem);
                     ApacheQuorumProcess twoAgain = ApacheQuorumProcess.start(temp.resolve("2"), apacheExtra,
                             apache2, apache1, apache2, tandem)) {
                    rejoin(member, clients, oneAgain, twoAgain, apache1, apache2, tandem);
                }
            }
        }
    }

    private static void rejoin(TandemApacheModeProcess member, ZkClients clients, ApacheQuorumProcess one,
                               ApacheQuorumProcess two, Ports apache1, Ports apache2, Ports tandem)
            throws Exception {
        {
            {
                // The Apache members lead on in a new epoch without it.
                assertTrue(ApacheQuorumProcess.await(() -> (one.mode() + two.mode()).matches(
                        "leaderfollower|followerleader"), TIMEOUT_MS),
                        () -> "the Apache members never re-elected:\n" + one.logTail() + "\n" + two.logTail());
                ZooKeeper onApache = clients.connect(one.mode().equals("leader") ? apache1 : apache2);
                onApache.create("/t/new-epoch", bytes("n"), Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
                onApache.setData("/t/committed-0", bytes("changed"), -1);

                int logLengthAtRestart = member.logText().length();
                member.restart(List.of(), List.of(), tandem, apache1, apache2, tandem);
                assertTrue(ApacheQuorumProcess.await(() -> ApacheQuorumProcess.modeAt(tandem.clientPort())
                        .equals("follower"), TIMEOUT_MS), () -> "Tandem never followed:\n" + member.logTail());
                String afterRestart = member.logText().substring(logLengthAtRestart);
                // Apache 3.9.5's leader restarted from its files answers this one with SNAP (the rejoining zxid is
                // below its in-memory committed log and not in its txn log); TRUNC when it is within that log.
                // Either way the proposal must go, never be applied.
                assertTrue(afterRestart.contains("TRUNC from the leader")
                        || afterRestart.contains("SNAP from the leader"), member::logTail);

                ZooKeeper again = clients.connect(tandem);
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
