package io.tandem.server.ensemble;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.admin.ZooKeeperAdmin;
import org.apache.zookeeper.data.Stat;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Changing the voters by reconfig on real members, through the Java client's {@link ZooKeeperAdmin#reconfigure}: a
 * fourth voter started with a zoo.cfg naming itself and the three voters joins, syncs and its acknowledgement counts
 * in the new quorum (3 of 4); two joiners added by one reconfig both count (3 of 5), and two voters removed by one
 * reconfig leave it (2 of 3); a removed follower follows on as a non-voter and serves its clients, as Apache 3.9.5's
 * does (ApacheRemovedMemberProcessTest), and votes again once a later reconfig adds it back; a removed leader commits
 * the reconfig, steps down and follows the voter it designated as a non-voter, nobody electing (Apache's handover).
 */
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class VoterReconfigEnsembleTest {
    private static final int JOINER = TestEnsemble.SIZE + 1;

    @TempDir
    Path dir;
    private ReconfigFixture fixture;
    private TestEnsemble ensemble;

    @AfterEach
    void stopEnsemble() throws InterruptedException {
        if (fixture != null) {
            fixture.close();
        }
    }

    private void startVoters(int extraVoters) throws Exception {
        fixture = new ReconfigFixture(new TestEnsemble(dir, 0, extraVoters));
        ensemble = fixture.ensemble;
        ensemble.extraSettings.put("4lw.commands.whitelist", "srvr,conf");
        if (extraVoters > 0) {
            ensemble.joiners.add(JOINER);
        }
        fixture.startVoters();
    }

    private ZooKeeperAdmin superAdmin(int id) throws Exception {
        return fixture.superAdmin(id);
    }

    private ZooKeeper client(int id) throws Exception {
        return fixture.client(id);
    }

    private static String text(byte[] data) {
        return ReconfigFixture.text(data);
    }

    private static long version(String config) {
        return Long.parseLong(config.substring(config.lastIndexOf('=') + 1), 16);
    }

    private static String fourLetterWord(int clientPort, String word) throws java.io.IOException {
        return TestEnsemble.fourLetterWord(clientPort, word, 5_000);
    }

    /** Starts an asynchronous create; the latch counts down once it is answered OK. */
    private static CountDownLatch createAsync(ZooKeeper zk, String path) {
        CountDownLatch created = new CountDownLatch(1);
        zk.create(path, new byte[0], ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT, (rc, p, ctx, name) -> {
            if (rc == KeeperException.Code.OK.intValue()) {
                created.countDown();
            }
        }, null);
        return created;
    }

    @Test
    void aVoterAddedByReconfigSyncsAndItsAcknowledgementCountsInTheNewQuorum() throws Exception {
        startVoters(1);
        int leader = ensemble.awaitServing(30_000);
        ensemble.start(JOINER);
        ZooKeeper viaLeader = client(leader);
        viaLeader.create("/before", "old".getBytes(StandardCharsets.UTF_8), ZooDefs.Ids.OPEN_ACL_UNSAFE,
                CreateMode.PERSISTENT);
        int follower = leader % TestEnsemble.SIZE + 1;
        Stat stat = new Stat();
        String joiner = "server." + JOINER + "=" + ensemble.serverLine(JOINER) + ":participant;127.0.0.1:"
                + ensemble.clientPort(JOINER);
        String added = text(superAdmin(follower).reconfigure(joiner, null, null, -1, stat));
        assertTrue(added.contains(joiner + "\n"), added);
        assertEquals(version(added), stat.getMzxid(), "the version is the reconfig's zxid");

        assertEquals(leader, ensemble.awaitServing(20_000), "the new voter joined the same leader");
        assertEquals("follower", ensemble.mode(JOINER));
        ZooKeeper viaJoiner = client(JOINER);
        viaJoiner.sync("/before");
        assertEquals("old", text(viaJoiner.getData("/before", false, null)), "synced from the leader");
        assertEquals(added, text(viaJoiner.getConfig(false, null)));
        for (int id = 1; id <= TestEnsemble.SIZE; id++) {
            ZooKeeper zk = client(id);
            zk.sync("/zookeeper/config");
            assertEquals(added, text(zk.getConfig(false, null)), "member " + id + " holds the new configuration");
        }

        // conf shows the membership after the static keys, as Apache's QuorumZooKeeperServer.dumpConf does.
        String conf = fourLetterWord(ensemble.clientPort(JOINER), "conf");
        assertTrue(conf.contains("\nserverId=" + JOINER + "\ninitLimit=" + TestEnsemble.INIT_LIMIT
                + "\nsyncLimit=" + TestEnsemble.SYNC_LIMIT + "\nelectionAlg=3\n"), conf);
        assertTrue(conf.contains("\npeerType=0\nmembership: \n" + added), conf);
        assertTrue(conf.endsWith(added), "the membership ends the answer, as QuorumMaj prints it: " + conf);
        assertTrue(fourLetterWord(ensemble.clientPort(leader), "conf").endsWith("membership: \n" + added));

        // Four voters, quorum three: with one old follower down, only the new voter's ack completes a quorum.
        int stopped = follower;
        ensemble.stop(stopped);
        viaLeader.create("/with-the-new-voter", new byte[0], ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
        // With a second old voter down, two of four are no quorum: the write waits for one of them to return.
        int secondStopped = 6 - leader - stopped; // the third of the old voters
        ensemble.stop(secondStopped);
        CountDownLatch blocked = createAsync(viaJoiner, "/needs-three-of-four");
        assertFalse(blocked.await(3L * TestEnsemble.TICK_MS * TestEnsemble.SYNC_LIMIT, TimeUnit.MILLISECONDS),
                "two of four voters committed a write"); // a bound on a negative (syncLimit), not synchronisation
        ensemble.start(stopped);
        ensemble.awaitServing(30_000);
        ZooKeeper again = client(stopped);
        again.create("/three-of-four-back", new byte[0], ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
        String joinerMode = ensemble.mode(JOINER);
        assertTrue(joinerMode.equals("follower") || joinerMode.equals("leader"),
                "the new voter serves in the ensemble that re-formed: " + joinerMode);
    }

    @Test
    void twoVotersAddedByOneReconfigJoinAndBothCountThenTwoRemovedByOneReconfigLeaveTheQuorum() throws Exception {
        startVoters(2);
        int second = JOINER + 1;
        ensemble.joiners.add(second);
        int leader = ensemble.awaitServing(30_000);
        ensemble.start(JOINER);
        ensemble.start(second);
        ZooKeeper viaLeader = client(leader);
        viaLeader.create("/before-both", new byte[0], ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
        StringBuilder joining = new StringBuilder();
        for (int id : new int[] {JOINER, second}) {
            joining.append(joining.length() == 0 ? "" : ",").append("server.").append(id).append('=')
                    .append(ensemble.serverLine(id)).append(":participant;127.0.0.1:").append(ensemble.clientPort(id));
        }
        String added = text(superAdmin(leader).reconfigure(joining.toString(), null, null, -1, null));
        for (String line : joining.toString().split(",")) {
            assertTrue(added.contains(line + "\n"), added);
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!(ensemble.mode(JOINER).equals("follower") && ensemble.mode(second).equals("follower"))
                && System.nanoTime() - deadline < 0) {
            Thread.sleep(100);
        }
        assertEquals("follower", ensemble.mode(JOINER));
        assertEquals("follower", ensemble.mode(second), "a joiner that knew neither the other joiner nor its address");
        // Five voters, quorum three: with both old followers down, a write commits only with both joiners' acks.
        for (int id = 1; id <= TestEnsemble.SIZE; id++) {
            if (id != leader) {
                ensemble.stop(id);
            }
        }
        viaLeader.create("/with-both-joiners", new byte[0], ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
        ZooKeeper viaSecond = client(second);
        viaSecond.sync("/with-both-joiners");
        assertTrue(viaSecond.exists("/with-both-joiners", false) != null);
        assertTrue(viaSecond.exists("/before-both", false) != null, "synced from the leader");

        // Then both old followers leave by one reconfig: three voters (the leader and the joiners), quorum two. The
        // joint quorum of the old five and the new three is the leader and both joiners.
        int[] leaving = new int[2];
        int n = 0;
        for (int id = 1; id <= TestEnsemble.SIZE; id++) {
            if (id != leader) {
                leaving[n++] = id;
            }
        }
        String shrunk = text(superAdmin(leader).reconfigure((String) null, leaving[0] + "," + leaving[1], null, -1,
                null));
        for (int id : leaving) {
            assertFalse(shrunk.contains("server." + id + "="), shrunk);
        }
        assertTrue(shrunk.contains("server." + JOINER + "=") && shrunk.contains("server." + second + "="), shrunk);
        viaSecond.sync("/zookeeper/config");
        assertEquals(shrunk, text(viaSecond.getConfig(false, null)), "the joiner holds the configuration of three");
        // Two of three: with the second joiner down too, the leader and the first joiner commit alone (two of the old
        // five would not).
        ensemble.stop(second);
        viaLeader.create("/two-of-three", new byte[0], ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
        ZooKeeper viaFirst = client(JOINER);
        viaFirst.sync("/two-of-three");
        assertTrue(viaFirst.exists("/two-of-three", false) != null);
    }

    /**
     * A reconfig whose new voters are mostly joiners (Apache's ReconfigTest adds servers started with a zoo.cfg naming
     * themselves): the leader syncs them first as non-voting followers, which serve clients as followers, so with one
     * of the three voters down the reconfig adding two of them finds four of the five new voters synced (Apache's
     * Leader.isQuorumSynced) and commits instead of answering NewConfigNoQuorum; then their acks carry writes.
     */
    @Test
    void twoJoinersAddedWhileAVoterIsDownAreSyncedFirstAndTheReconfigCommits() throws Exception {
        int second = JOINER + 1;
        fixture = new ReconfigFixture(new TestEnsemble(dir, 0, 2));
        ensemble = fixture.ensemble;
        ensemble.joiners.add(JOINER);
        ensemble.joiners.add(second); // the three voters' zoo.cfg names neither joiner
        fixture.startVoters();
        int leader = ensemble.awaitServing(30_000);
        ZooKeeper viaLeader = client(leader);
        viaLeader.create("/before-the-joiners", "old".getBytes(StandardCharsets.UTF_8), ZooDefs.Ids.OPEN_ACL_UNSAFE,
                CreateMode.PERSISTENT);
        int down = leader % TestEnsemble.SIZE + 1;
        ensemble.stop(down);
        ensemble.start(JOINER);
        ensemble.start(second);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!(ensemble.mode(JOINER).equals("follower") && ensemble.mode(second).equals("follower"))
                && System.nanoTime() - deadline < 0) {
            Thread.sleep(100);
        }
        assertEquals("follower", ensemble.mode(JOINER), "a joiner follows before any reconfig names it");
        assertEquals("follower", ensemble.mode(second));
        ZooKeeper viaJoiner = client(JOINER);
        viaJoiner.sync("/before-the-joiners");
        assertEquals("old", text(viaJoiner.getData("/before-the-joiners", false, null)), "synced from the leader");

        StringBuilder joining = new StringBuilder();
        for (int id : new int[] {JOINER, second}) {
            joining.append(joining.length() == 0 ? "" : ",").append("server.").append(id).append('=')
                    .append(ensemble.serverLine(id)).append(":participant;127.0.0.1:").append(ensemble.clientPort(id));
        }
        String added = text(superAdmin(leader).reconfigure(joining.toString(), null, null, -1, null));
        for (String line : joining.toString().split(",")) {
            assertTrue(added.contains(line + "\n"), added);
        }
        viaJoiner.sync("/zookeeper/config");
        assertEquals(added, text(viaJoiner.getConfig(false, null)), "the joiner holds the configuration naming it");

        // Five voters, quorum three: with the other old follower down too, only the joiners' acks make a quorum.
        ensemble.stop(6 - leader - down);
        viaLeader.create("/with-the-joiners", new byte[0], ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
        ZooKeeper viaSecond = client(second);
        viaSecond.sync("/with-the-joiners");
        assertTrue(viaSecond.exists("/with-the-joiners", false) != null);
        assertEquals(leader, ensemble.awaitServing(20_000), "the leader went on with the joiners as voters");
    }

    /**
     * Issue 14: a joiner restarted before the reconfig that adds it follows again as a joiner (its dynamic file does
     * not name it, so it starts from its zoo.cfg, with the history it synced), as Apache's; it was counted removed.
     */
    @Test
    void aJoinerRestartedBeforeTheReconfigThatAddsItFollowsAgainAndIsAddedAfterwards() throws Exception {
        fixture = new ReconfigFixture(new TestEnsemble(dir, 0, 2));
        ensemble = fixture.ensemble;
        ensemble.joiners.add(JOINER);
        fixture.startVoters();
        int leader = ensemble.awaitServing(30_000);
        ZooKeeper viaLeader = client(leader);
        viaLeader.create("/before-the-joiner", "old".getBytes(StandardCharsets.UTF_8), ZooDefs.Ids.OPEN_ACL_UNSAFE,
                CreateMode.PERSISTENT);
        ensemble.start(JOINER);
        awaitMode(JOINER, "follower");
        ensemble.stop(JOINER);
        viaLeader.create("/while-it-was-down", new byte[0], ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
        ensemble.start(JOINER);
        awaitMode(JOINER, "follower");
        ZooKeeper viaJoiner = client(JOINER);
        viaJoiner.sync("/while-it-was-down");
        assertTrue(viaJoiner.exists("/while-it-was-down", false) != null, "restarted, it syncs again as a joiner");

        String line = "server." + JOINER + "=" + ensemble.serverLine(JOINER) + ":participant;127.0.0.1:"
                + ensemble.clientPort(JOINER);
        String added = text(superAdmin(leader).reconfigure(line, null, null, -1, null));
        assertTrue(added.contains(line + "\n"), added);
        viaJoiner.sync("/zookeeper/config");
        assertEquals(added, text(viaJoiner.getConfig(false, null)), "the joiner holds the configuration naming it");
    }

    private void awaitMode(int id, String mode) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!ensemble.mode(id).equals(mode) && System.nanoTime() - deadline < 0) {
            Thread.sleep(100);
        }
        assertEquals(mode, ensemble.mode(id), "server " + id);
    }

    @Test
    void aRemovedFollowerFollowsOnAsANonVoterAndServesItsClients() throws Exception {
        startVoters(0);
        int leader = ensemble.awaitServing(30_000);
        int removedId = leader % TestEnsemble.SIZE + 1;
        ZooKeeper viaRemoved = client(removedId);
        ZooKeeperAdmin admin = superAdmin(leader);
        String before = text(admin.getConfig(false, null));
        String removed = text(admin.reconfigure((String) null, Integer.toString(removedId), null, version(before),
                null));
        assertFalse(removed.contains("server." + removedId + "="), removed);
        assertTrue(version(removed) > version(before), removed);

        // Apache's removed server is a non-voting participant that goes on following its leader.
        awaitMode(removedId, "follower");
        ZooKeeper viaLeader = client(leader);
        viaLeader.create("/after-removal", "seen".getBytes(StandardCharsets.UTF_8), ZooDefs.Ids.OPEN_ACL_UNSAFE,
                CreateMode.PERSISTENT);
        viaRemoved.sync("/after-removal");
        assertEquals("seen", text(viaRemoved.getData("/after-removal", false, null)),
                "the removed member serves its clients what the ensemble commits after its removal");
        viaRemoved.sync("/zookeeper/config");
        assertEquals(removed, text(viaRemoved.getConfig(false, null)), "it runs the configuration without it");
        viaRemoved.create("/through-the-removed-member", new byte[0], ZooDefs.Ids.OPEN_ACL_UNSAFE,
                CreateMode.PERSISTENT);

        ensemble.stop(removedId);
        assertEquals(leader, ensemble.awaitServing(20_000), "the leader goes on with the other voter");
        int other = 6 - leader - removedId;
        ZooKeeper viaOther = client(other);
        viaOther.create("/after-its-stop", new byte[0], ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
        viaOther.sync("/zookeeper/config");
        assertEquals(removed, text(viaOther.getConfig(false, null)));
        assertTrue(viaOther.exists("/through-the-removed-member", false) != null);
        KeeperException stale = assertThrows(KeeperException.class, () ->
                admin.reconfigure((String) null, Integer.toString(other), null, version(before), null));
        assertEquals(KeeperException.Code.BADVERSION, stale.code(), "a -from of the old version is refused");
    }

    @Test
    void aRemovedFollowerAddedBackByALaterReconfigVotesAgainWithoutARestart() throws Exception {
        startVoters(0);
        int leader = ensemble.awaitServing(30_000);
        int removedId = leader % TestEnsemble.SIZE + 1;
        int other = 6 - leader - removedId;
        ZooKeeperAdmin admin = superAdmin(leader);
        String removed = text(admin.reconfigure((String) null, Integer.toString(removedId), null, -1, null));
        assertFalse(removed.contains("server." + removedId + "="), removed);
        awaitMode(removedId, "follower");
        ZooKeeper viaLeader = client(leader);
        viaLeader.create("/while-removed", "seen".getBytes(StandardCharsets.UTF_8), ZooDefs.Ids.OPEN_ACL_UNSAFE,
                CreateMode.PERSISTENT);
        ZooKeeper viaRemoved = client(removedId);
        viaRemoved.sync("/while-removed");
        assertEquals("seen", text(viaRemoved.getData("/while-removed", false, null)),
                "a non-voting follower while it is out");

        // Added back as Apache's removed server is: the same process, still following, becomes a voter on commit.
        String line = "server." + removedId + "=" + ensemble.serverLine(removedId) + ":participant;127.0.0.1:"
                + ensemble.clientPort(removedId);
        String readded = text(admin.reconfigure(line, null, null, -1, null));
        assertTrue(readded.contains(line + "\n"), readded);
        awaitMode(removedId, "follower");
        viaRemoved.sync("/zookeeper/config");
        assertEquals(readded, text(viaRemoved.getConfig(false, null)));
        // Only its vote makes a quorum of the three voters once the other follower is gone.
        ensemble.stop(other);
        assertEquals(leader, ensemble.awaitServing(20_000));
        viaRemoved.create("/through-the-rejoined-member", new byte[0], ZooDefs.Ids.OPEN_ACL_UNSAFE,
                CreateMode.PERSISTENT);
        viaLeader.sync("/through-the-rejoined-member");
        assertTrue(viaLeader.exists("/through-the-rejoined-member", false) != null);
    }

    /**
     * As Apache 3.9's Leader.tryToCommit with getDesignatedLeader and QuorumPeer.processReconfig / updateVote /
     * updateServerState: the COMMIT names the voter that leads next, it leads at once and the others follow it, the
     * removed leader as a non-voter, none of them looking for a leader (Zab's "looking" transition is logged at
     * FINE; the handover at INFO, once per member).
     */
    @Test
    void aRemovedLeaderCommitsAndHandsOverToTheDesignatedVoterWithoutAnElection() throws Exception {
        java.util.logging.Logger zabLog = java.util.logging.Logger.getLogger(
                io.tandem.server.zab.ZabStateMachine.class.getName());
        java.util.logging.Level levelBefore = zabLog.getLevel();
        java.util.List<String> looking = new java.util.concurrent.CopyOnWriteArrayList<>();
        java.util.List<String> handedOver = new java.util.concurrent.CopyOnWriteArrayList<>();
        java.util.concurrent.atomic.AtomicBoolean watching = new java.util.concurrent.atomic.AtomicBoolean();
        java.util.logging.Handler handler = new java.util.logging.Handler() {
            @Override
            public void publish(java.util.logging.LogRecord record) {
                if (!watching.get() || record.getMessage() == null) return;
                String line = java.text.MessageFormat.format(record.getMessage(), record.getParameters());
                if (record.getMessage().contains(": looking (")) looking.add(line);
                if (record.getMessage().contains("without an election")) handedOver.add(line);
            }

            @Override
            public void flush() {}

            @Override
            public void close() {}
        };
        zabLog.setLevel(java.util.logging.Level.FINE);
        zabLog.addHandler(handler);
        try {
            startVoters(0);
            int leader = ensemble.awaitServing(30_000);
            int follower = leader % TestEnsemble.SIZE + 1;
            ZooKeeperAdmin admin = superAdmin(follower);
            String before = text(admin.getConfig(false, null));
            watching.set(true);
            try {
                admin.reconfigure((String) null, Integer.toString(leader), null, -1, null);
            } catch (KeeperException.ConnectionLossException e) {
                // The answer may be lost as the members move to the new leader and drop their clients.
            }
            awaitMode(leader, "follower");
            int newLeader = ensemble.awaitServing(30_000);
            watching.set(false);
            assertNotEquals(leader, newLeader);
            assertEquals(java.util.List.of(), looking, "no member looked for a leader");
            assertEquals(TestEnsemble.SIZE, handedOver.size(), handedOver.toString());
            assertTrue(handedOver.stream().anyMatch(line -> line.startsWith("server " + newLeader
                    + ": leading as the designated")), handedOver.toString());
            ZooKeeper zk = client(newLeader);
            zk.create("/after-the-handover", new byte[0], ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
            ZooKeeper viaOldLeader = client(leader);
            viaOldLeader.sync("/after-the-handover");
            assertTrue(viaOldLeader.exists("/after-the-handover", false) != null);
            String removed = text(zk.getConfig(false, null));
            assertFalse(removed.contains("server." + leader + "="), removed);
            assertTrue(version(removed) > version(before), removed);
        } finally {
            zabLog.removeHandler(handler);
            zabLog.setLevel(levelBefore);
        }
    }

    @Test
    void aRemovedLeaderCommitsStepsDownAndFollowsTheNewOne() throws Exception {
        startVoters(0);
        int leader = ensemble.awaitServing(30_000);
        int follower = leader % TestEnsemble.SIZE + 1;
        ZooKeeperAdmin admin = superAdmin(follower);
        String before = text(admin.getConfig(false, null));
        try {
            String answered = text(admin.reconfigure((String) null, Integer.toString(leader), null, -1, null));
            assertFalse(answered.contains("server." + leader + "="), answered);
        } catch (KeeperException.ConnectionLossException e) {
            // Every member leaves its leader as it applies the commit and drops its clients: the answer may be lost
            // with the connection (an outcome unknown to the client, as with Apache); the configuration tells.
        }
        // Apache's removed leader hands over and follows the new one as a non-voting participant.
        awaitMode(leader, "follower");
        int newLeader = ensemble.awaitServing(30_000);
        assertNotEquals(leader, newLeader);
        ZooKeeper viaOldLeader = client(leader);
        viaOldLeader.create("/through-the-old-leader", new byte[0], ZooDefs.Ids.OPEN_ACL_UNSAFE,
                CreateMode.PERSISTENT);
        ensemble.stop(leader);
        assertEquals(newLeader, ensemble.awaitServing(30_000));
        ZooKeeper zk = client(follower);
        zk.sync("/through-the-old-leader");
        assertTrue(zk.exists("/through-the-old-leader", false) != null);
        zk.create("/after-the-leader-left", new byte[0], ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
        zk.sync("/zookeeper/config");
        String removed = text(zk.getConfig(false, null));
        assertFalse(removed.contains("server." + leader + "="), removed);
        assertTrue(version(removed) > version(before), removed);
    }
}
