package io.tandem.server.ensemble;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tandem.server.Tandem;
import io.tandem.server.TandemConfig;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.WatchedEvent;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.admin.ZooKeeperAdmin;
import org.apache.zookeeper.data.Stat;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Dynamic reconfiguration on three in-process voters with {@code reconfigEnabled=true}, driven by the official 3.9
 * client's {@code getConfig} and {@link ZooKeeperAdmin#reconfigure}: the {@code /zookeeper/config} znode in Apache's
 * form on every member, its watch, Apache's error codes (NewConfigNoQuorum for new voters not synced with the leader).
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class ReconfigEnsembleTest {
    @TempDir
    Path dir;
    private ReconfigFixture fixture;
    private TestEnsemble ensemble;

    @BeforeEach
    void startEnsemble() throws Exception {
        fixture = new ReconfigFixture(new TestEnsemble(dir));
        ensemble = fixture.ensemble;
        ensemble.startAll();
        ensemble.awaitServing(30_000);
    }

    @AfterEach
    void stopEnsemble() throws InterruptedException {
        fixture.close();
    }

    private ZooKeeperAdmin admin(int id, boolean asSuper) throws Exception {
        return fixture.admin(id, asSuper);
    }

    private String expectedMembers() {
        StringBuilder text = new StringBuilder();
        for (int id = 1; id <= TestEnsemble.SIZE; id++) {
            text.append("server.").append(id).append('=').append(ensemble.serverLine(id)).append(":participant\n");
        }
        return text.toString();
    }

    /**
     * Waits until every member shows the configuration as its first leader established it (Apache's Leader gives a
     * static configuration the zxid its epoch starts at) and returns that version.
     */
    private long awaitEstablishedVersion() throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        String seen = "";
        while (System.nanoTime() - deadline < 0) {
            java.util.Set<String> texts = new java.util.HashSet<>();
            for (int id = 1; id <= TestEnsemble.SIZE; id++) {
                try (ZooKeeper zk = TestEnsemble.client(ensemble.connect(id), 10_000, null)) {
                    texts.add(text(zk.getConfig(false, null)));
                }
            }
            seen = texts.toString();
            if (texts.size() == 1) {
                String text = texts.iterator().next();
                assertTrue(text.startsWith(expectedMembers() + "version="), text);
                long version = Long.parseLong(text.substring(text.lastIndexOf('=') + 1), 16);
                if (version != 0) {
                    assertEquals(0, version & 0xffffffffL, "the first zxid of an epoch: " + text);
                    return version;
                }
            }
            Thread.sleep(50);
        }
        throw new AssertionError("the members did not agree on an established version: " + seen);
    }

    private static String text(byte[] data) {
        return ReconfigFixture.text(data);
    }

    @Test
    void everyMemberHoldsTheConfigurationInApacheFormReadOnlyForTheWorld() throws Exception {
        long version = awaitEstablishedVersion();
        for (int id = 1; id <= TestEnsemble.SIZE; id++) {
            ZooKeeper zk = fixture.client(id);
            Stat stat = new Stat();
            assertEquals(expectedMembers() + "version=" + Long.toHexString(version), text(zk.getConfig(false, stat)),
                    "member " + id);
            assertEquals(version, stat.getMzxid(), "Apache writes the config znode with its version as mzxid");
            java.util.Properties properties = new java.util.Properties();
            properties.load(new java.io.StringReader(text(zk.getConfig(false, null))));
            org.apache.zookeeper.server.quorum.flexible.QuorumMaj apache =
                    new org.apache.zookeeper.server.quorum.flexible.QuorumMaj(properties);
            assertEquals(version, apache.getVersion());
            assertEquals(TestEnsemble.SIZE, apache.getVotingMembers().size(), "Apache's parser sees the voters");
            assertEquals(-1, stat.getVersion(), "Apache writes the config znode with version -1");
            assertEquals(ZooDefs.Ids.READ_ACL_UNSAFE, zk.getACL("/zookeeper/config", new Stat()));
            assertThrows(KeeperException.NoAuthException.class,
                    () -> zk.setData("/zookeeper/config", new byte[0], -1));
        }
    }

    @Test
    void aReconfigKeepingTheMembersCommitsANewVersionAndFiresGetConfigWatchesOnEveryMember() throws Exception {
        long established = awaitEstablishedVersion();
        List<BlockingQueue<WatchedEvent>> watches = new ArrayList<>();
        List<ZooKeeper> readers = new ArrayList<>();
        for (int id = 1; id <= TestEnsemble.SIZE; id++) {
            BlockingQueue<WatchedEvent> events = new LinkedBlockingQueue<>();
            ZooKeeper zk = fixture.client(id);
            zk.getConfig(events::add, null);
            watches.add(events);
            readers.add(zk);
        }
        int follower = ensemble.awaitServing(10_000) % TestEnsemble.SIZE + 1; // forwarded to the leader
        ZooKeeperAdmin admin = admin(follower, true);
        Stat stat = new Stat();
        // The bulk form, newMembers separated by commas, from the version the client read.
        String members = expectedMembers().strip().replace("\n", ",");
        byte[] answer = admin.reconfigure((String) null, null, members, established, stat);

        String committed = text(answer);
        assertTrue(committed.startsWith(expectedMembers() + "version="), committed);
        long version = Long.parseLong(committed.substring(committed.lastIndexOf('=') + 1), 16);
        assertTrue(version > established, committed);
        assertEquals(version, stat.getMzxid(), "the new version is the zxid of the reconfig, as Apache's");
        for (int id = 1; id <= TestEnsemble.SIZE; id++) {
            WatchedEvent event = watches.get(id - 1).poll(10, TimeUnit.SECONDS);
            assertNotNull(event, "member " + id + " fired the getConfig watch");
            assertEquals(Watcher.Event.EventType.NodeDataChanged, event.getType());
            assertEquals("/zookeeper/config", event.getPath());
            ZooKeeper reader = readers.get(id - 1);
            reader.sync("/zookeeper/config");
            assertEquals(committed, text(reader.getConfig(false, null)), "member " + id);
        }

        // The incremental form with nothing to add or remove re-states the ensemble too; -from the old version fails.
        assertThrows(KeeperException.BadVersionException.class,
                () -> admin.reconfigure((String) null, null, null, established, null));
        String next = text(admin.reconfigure((String) null, null, null, version, null));
        assertTrue(next.startsWith(expectedMembers() + "version="), next);
        assertNotEquals(committed, next);
    }

    @Test
    void aCommittedConfigurationSurvivesRestartsAndReachesAMemberThatLostItsData() throws Exception {
        long established = awaitEstablishedVersion();
        String committed = text(admin(1, true).reconfigure((String) null, null, null, established, null));
        ensemble.stop(3);
        deleteRecursively(ensemble.zabDir(3));
        ensemble.start(3);
        ensemble.awaitServing(30_000);
        try (ZooKeeper zk = TestEnsemble.client(ensemble.connect(3), 10_000, null)) {
            zk.sync("/zookeeper/config");
            assertEquals(committed, text(zk.getConfig(false, null)), "the member synced from scratch");
        }
        for (int id = 1; id <= TestEnsemble.SIZE; id++) {
            ensemble.stop(id);
        }
        for (int id = 1; id <= TestEnsemble.SIZE; id++) {
            ensemble.start(id);
        }
        ensemble.awaitServing(30_000);
        for (int id = 1; id <= TestEnsemble.SIZE; id++) {
            try (ZooKeeper zk = TestEnsemble.client(ensemble.connect(id), 10_000, null)) {
                zk.sync("/zookeeper/config");
                assertEquals(committed, text(zk.getConfig(false, null)), "member " + id + " after a restart");
            }
        }
    }

    private static void deleteRecursively(Path path) throws java.io.IOException {
        try (java.util.stream.Stream<Path> paths = java.nio.file.Files.walk(path)) {
            for (Path each : paths.sorted(java.util.Comparator.reverseOrder()).toList()) {
                java.nio.file.Files.delete(each);
            }
        }
    }

    @Test
    void aReconfigIsAnsweredWithApacheErrorsAndChangesNothingWhenRefused() throws Exception {
        long established = awaitEstablishedVersion();
        ZooKeeperAdmin anyone = admin(1, false);
        assertThrows(KeeperException.NoAuthException.class, () -> anyone.reconfigure((String) null, null, null, -1, null),
                "only the super user has WRITE on /zookeeper/config");
        ZooKeeperAdmin admin = admin(2, true);
        assertThrows(KeeperException.BadVersionException.class,
                () -> admin.reconfigure((String) null, null, null, 0x12345, null));
        assertThrows(KeeperException.BadArgumentsException.class,
                () -> admin.reconfigure((String) null, null, "server.1=" + ensemble.serverLine(1), -1, null),
                "a single voter is too few");
        assertThrows(KeeperException.BadArgumentsException.class,
                () -> admin.reconfigure("server.9=127.0.0.1:1", null, null, -1, null),
                "a joiner needs quorum, election and client ports");
        String newcomers = ",server.7=127.0.0.1:" + TestEnsemble.freePort() + ":" + TestEnsemble.freePort() + ";2187"
                + ",server.8=127.0.0.1:" + TestEnsemble.freePort() + ":" + TestEnsemble.freePort() + ";2188";
        assertThrows(KeeperException.NewConfigNoQuorum.class, () -> admin.reconfigure((String) null, null,
                "server.1=" + ensemble.serverLine(1) + newcomers, -1, null),
                "voters 1, 7 and 8: only 1 is synced with the leader, no quorum of the new voters");
        assertEquals(expectedMembers() + "version=" + Long.toHexString(established), text(admin.getConfig(false, null)),
                "nothing changed");
    }

    @Test
    void withReconfigDisabledTheEnsembleAnswersReconfigDisabled() throws Exception {
        fixture.close();
        fixture = new ReconfigFixture(new TestEnsemble(dir.resolve("disabled")), false);
        ensemble = fixture.ensemble;
        ensemble.startAll();
        ensemble.awaitServing(30_000);
        long established = awaitEstablishedVersion(); // established whether reconfig is enabled or not, as Apache
        assertNotEquals(0, established);
        ZooKeeperAdmin admin = admin(1, false);
        assertThrows(KeeperException.ReconfigDisabledException.class,
                () -> admin.reconfigure((String) null, "3", null, -1, null));
        assertTrue(text(admin.getConfig(false, null)).startsWith(expectedMembers()), "getConfig works regardless");
    }

    @Test
    void aStandaloneServerHasAnEmptyConfigAndCannotReconfigureAsApacheStandalone() throws Exception {
        TandemConfig config = TandemConfig.forTests(dir.resolve("standalone"))
                .roles(java.util.EnumSet.of(TandemConfig.Role.ZOOKEEPER))
                .set("reconfigEnabled", "true");
        try (Tandem standalone = Tandem.start(config)) {
            ZooKeeperAdmin admin = fixture.closedWithEnsemble(
                    new ZooKeeperAdmin(standalone.zookeeperConnect(), 10_000, event -> { }));
            assertEquals(0, admin.getConfig(false, null).length);
            assertThrows(KeeperException.UnimplementedException.class,
                    () -> admin.reconfigure((String) null, null, null, -1, null));
        }
    }
}
