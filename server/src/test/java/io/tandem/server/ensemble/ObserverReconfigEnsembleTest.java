package io.tandem.server.ensemble;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.WatchedEvent;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.admin.ZooKeeperAdmin;
import org.apache.zookeeper.data.Stat;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Adding and removing an observer by reconfig, as kazoo's test_add_remove_observer does against Apache: three
 * in-process voters started without it, the observer started with a zoo.cfg that names it and the voters (Apache
 * wants a joiner started so), {@link ZooKeeperAdmin#reconfigure} through a follower. Once added it syncs, serves
 * reads and forwards writes; once removed it follows on as a non-voting follower, as Apache 3.9.5's removed observer
 * does (QuorumPeer.updateLearnerType makes it a non-voting participant, which follows the leader), serving its
 * clients.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ObserverReconfigEnsembleTest {
    private static final int OBSERVER = TestEnsemble.SIZE + 1;

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

    /** The three voters, serving, and the observer not started yet, named only in its own zoo.cfg. */
    private void startVotersWithoutTheObserver() throws Exception {
        fixture = new ReconfigFixture(new TestEnsemble(dir, 1));
        ensemble = fixture.ensemble;
        ensemble.joiners.add(OBSERVER);
        fixture.startVoters();
    }

    private void awaitMode(int id, String mode) throws Exception {
        long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(30);
        while (!ensemble.mode(id).equals(mode) && System.nanoTime() - deadline < 0) {
            Thread.sleep(50);
        }
        assertEquals(mode, ensemble.mode(id));
    }

    private static String text(byte[] data) {
        return ReconfigFixture.text(data);
    }

    /** The joiner's line as a reconfig names it: quorum, election and client address, role observer. */
    private String joinerLine() {
        return "server." + OBSERVER + "=" + ensemble.serverLine(OBSERVER) + ";127.0.0.1:"
                + ensemble.clientPort(OBSERVER);
    }

    @Test
    void anObserverAddedByReconfigServesAndOneRemovedStopsServing() throws Exception {
        startVotersWithoutTheObserver();
        int leader = ensemble.awaitServing(30_000);
        ensemble.start(OBSERVER);
        int follower = leader % TestEnsemble.SIZE + 1; // the reconfig is forwarded to the leader

        // Not a member yet: as Apache's joiner listed as an observer in its own zoo.cfg (ZOOKEEPER-2212), it follows
        // the leader as a non-voting follower until a reconfig names it.
        awaitMode(OBSERVER, "follower");

        ZooKeeperAdmin admin = fixture.superAdmin(follower);
        ZooKeeper viaVoter = fixture.client(leader);
        viaVoter.create("/before", "written before the join".getBytes(StandardCharsets.UTF_8),
                ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
        Stat stat = new Stat();
        String added = text(admin.reconfigure(joinerLine(), null, null, -1, stat));
        assertTrue(added.contains("server." + OBSERVER + "=" + ensemble.serverLine(OBSERVER) + ";127.0.0.1:"
                + ensemble.clientPort(OBSERVER) + "\n"), added);
        long addedVersion = Long.parseLong(added.substring(added.lastIndexOf('=') + 1), 16);
        assertEquals(addedVersion, stat.getMzxid(), "the version is the reconfig's zxid");

        assertEquals(leader, ensemble.awaitServing(20_000), "the observer joined under the same leader");
        awaitMode(OBSERVER, "observer");
        BlockingQueue<WatchedEvent> observerEvents = new LinkedBlockingQueue<>();
        ZooKeeper viaObserver = fixture.client(OBSERVER, observerEvents::add);
        assertEquals(OBSERVER, ensemble.idOfPort(TestEnsemble.connectedPort(viaObserver)));
        viaObserver.sync("/before");
        assertArrayEquals("written before the join".getBytes(StandardCharsets.UTF_8),
                viaObserver.getData("/before", false, null), "synced from the leader");
        viaObserver.create("/through-observer", "forwarded".getBytes(StandardCharsets.UTF_8),
                ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
        viaVoter.sync("/through-observer");
        assertArrayEquals("forwarded".getBytes(StandardCharsets.UTF_8),
                viaVoter.getData("/through-observer", false, null), "the observer's write reached the voters");
        assertEquals(added, text(viaObserver.getConfig(false, null)), "the observer holds the same configuration");
        for (int id = 1; id <= TestEnsemble.SIZE; id++) {
            try (ZooKeeper zk = TestEnsemble.client(ensemble.connect(id), 10_000, null)) {
                zk.sync("/zookeeper/config");
                assertEquals(added, text(zk.getConfig(false, null)), "member " + id);
            }
        }
        for (int id = 1; id <= OBSERVER; id++) {
            assertEquals(List.of("zoo.cfg.dynamic." + Long.toHexString(addedVersion)), dynamicFiles(id),
                    "member " + id + " wrote Apache's dynamic configuration file, only the newest kept");
            assertEquals(added.substring(0, added.lastIndexOf("version=")), Files.readString(ensemble.zabDir(id)
                    .getParent().resolve("zoo.cfg.dynamic." + Long.toHexString(addedVersion))));
        }

        // Removing it: the configuration drops it everywhere; it follows on as a non-voter and serves its clients.
        String removed = text(admin.reconfigure((String) null, Integer.toString(OBSERVER), null, addedVersion, null));
        assertFalse(removed.contains("server." + OBSERVER + "="), removed);
        assertNotEquals(added, removed);
        assertEquals(leader, ensemble.awaitServingVoters(20_000));
        awaitMode(OBSERVER, "follower");
        viaVoter.create("/after-removal", new byte[0], ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
        viaObserver.sync("/after-removal");
        assertTrue(viaObserver.exists("/after-removal", false) != null, "the removed observer serves its client");
        viaObserver.sync("/zookeeper/config");
        assertEquals(removed, text(viaObserver.getConfig(false, null)));
        viaVoter.sync("/zookeeper/config");
        assertEquals(removed, text(viaVoter.getConfig(false, null)));
        viaVoter.setData("/before", new byte[] {1}, -1); // the voters go on without it
        String removedVersion = removed.substring(removed.lastIndexOf('=') + 1);
        for (int id = 1; id <= TestEnsemble.SIZE; id++) {
            assertEquals(List.of("zoo.cfg.dynamic." + removedVersion), dynamicFiles(id), "member " + id);
        }
    }

    @Test
    void votersRestartedAfterTheReconfigStillTakeTheObserver() throws Exception {
        startVotersWithoutTheObserver();
        ensemble.awaitServing(30_000);
        ensemble.start(OBSERVER);
        String added = text(fixture.superAdmin(1).reconfigure(joinerLine(), null, null, -1, null));
        ensemble.awaitServing(20_000);

        // Their zoo.cfg does not name the observer: the committed configuration in their log does.
        for (int id = 1; id <= TestEnsemble.SIZE; id++) {
            ensemble.stop(id);
        }
        for (int id = 1; id <= TestEnsemble.SIZE; id++) {
            ensemble.start(id);
        }
        ensemble.awaitServing(30_000);
        assertEquals("observer", ensemble.mode(OBSERVER));
        try (ZooKeeper viaObserver = TestEnsemble.client(ensemble.connect(OBSERVER), 10_000, null)) {
            viaObserver.create("/after-restart", new byte[0], ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
            viaObserver.sync("/zookeeper/config");
            assertEquals(added, text(viaObserver.getConfig(false, null)));
        }
    }

    private List<String> dynamicFiles(int id) throws java.io.IOException {
        try (Stream<Path> files = Files.list(ensemble.zabDir(id).getParent())) {
            return files.map(file -> file.getFileName().toString())
                    .filter(name -> name.startsWith("zoo.cfg.dynamic.")).sorted().toList();
        }
    }
}
