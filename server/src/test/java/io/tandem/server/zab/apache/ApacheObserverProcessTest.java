package io.tandem.server.zab.apache;

import static io.tandem.server.zab.apache.ReconfigChecks.assertSameConfig;
import static io.tandem.server.zab.apache.ReconfigChecks.serverLine;
import static io.tandem.server.zab.apache.ReconfigChecks.text;
import static io.tandem.server.zab.apache.ReconfigChecks.writeAndSeeEverywhere;
import static io.tandem.server.zab.apache.ZkClients.bytes;
import static io.tandem.server.zab.apache.ZkClients.sync;
import static io.tandem.server.zab.apache.ZkClients.tree;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tandem.server.zab.apache.ApacheQuorumProcess.Ports;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.ZooDefs.Ids;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.admin.ZooKeeperAdmin;
import org.apache.zookeeper.server.auth.DigestAuthenticationProvider;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A Tandem leader in Apache mode with Apache ZooKeeper 3.9.5 processes that are not (yet) its voters, as Apache's
 * leader serves them: an observer (OBSERVERINFO, a sync, an INFORM for each commit, INFORMANDACTIVATE for a reconfig,
 * its clients' writes forwarded; never part of a quorum), and a brand-new server that joins by reconfig (it finds the
 * leader by election before any configuration here names it, syncs, and votes once the reconfig adding it commits).
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class ApacheObserverProcessTest {
    /** Each wait within the test's own time limit, so that a failure says what it waited for. */
    private static final long TIMEOUT_MS = 40_000;
    private static final String SUPER = "super:secret";

    @TempDir
    Path temp;

    /**
     * Tandem (sid 3) leads Apache follower 1 and Apache observer 2. Every kind of write through the observer's client
     * (and through the others') is read back on every member, and mntr counts one synced follower and one synced
     * observer; the observer, restarted after missing writes, syncs again. A reconfig asked through the observer
     * (adding observer 4) reaches it as INFORMANDACTIVATE: Apache's observer activates it (it writes the
     * configuration's dynamic file) and goes on observing. With follower 1 killed the observer does not make a quorum: Tandem stops leading.
     */
    @Test
    void apacheObserversFollowATandemLeaderThroughWritesAndAReconfig() throws Exception {
        Ports one = Ports.fresh(1);
        Ports two = Ports.fresh(2);
        Ports three = Ports.fresh(3);
        Ports[] all = {one, two, three};
        Set<Long> observers = Set.of(2L);
        List<String> settings = settings();
        try (TandemApacheModeProcess tandem = TandemApacheModeProcess.start(temp.resolve("tandem"), List.of(),
                settings, observers, three, all);
             ZkClients clients = new ZkClients()) {
            awaitMode(tandem, three, "not serving|leader");
            try (ApacheQuorumProcess follower = ApacheQuorumProcess.start(temp.resolve("1"), settings, observers,
                    one, all);
                 ApacheQuorumProcess first = ApacheQuorumProcess.start(temp.resolve("2"), settings, observers,
                         two, all)) {
                awaitMode(tandem, three, "leader");
                assertTrue(ApacheQuorumProcess.await(() -> follower.mode().equals("follower")
                        && first.mode().equals("observer"), TIMEOUT_MS),
                        () -> "follower " + follower.mode() + ", observer " + first.mode() + "\nobserver log:\n"
                                + first.logTail() + "\nTandem log:\n" + tandem.logTail());
                ZooKeeper onObserver = clients.connect(two);
                ZooKeeper onOne = clients.connect(one);
                ZooKeeper onTandem = clients.connect(three);
                writeAndSeeEverywhere("/through-observer", onObserver, onOne, onTandem, onObserver);
                ZkClients.writeEveryKind("/kind", onObserver, onOne, onTandem);
                sync(onObserver, "/");
                sync(onOne, "/");
                sync(onTandem, "/");
                assertEquals(tree(onTandem), tree(onObserver), "the observer's tree");
                assertEquals(tree(onTandem), tree(onOne), "the follower's tree");
                String established = assertSameConfig(onTandem, onOne, onObserver);
                assertTrue(established.contains("server.2=127.0.0.1:" + two.quorumPort() + ":" + two.electionPort()
                        + ":observer"), established);
                String figures = mntr(three);
                assertTrue(figures.contains("zk_synced_followers\t1\n")
                        && figures.contains("zk_synced_observers\t1\n"), figures);

                // Restarted, the observer has missed writes: it syncs again and its client reads them.
                first.kill();
                ZkClients.writeEveryKind("/missed", onTandem);
                try (ApacheQuorumProcess observer = ApacheQuorumProcess.start(temp.resolve("2"), settings,
                        observers, two, all)) {
                    assertTrue(ApacheQuorumProcess.await(() -> observer.mode().equals("observer"), TIMEOUT_MS),
                            observer::logTail);
                    ZkClients.awaitConnected(onObserver);
                    sync(onObserver, "/");
                    assertEquals(tree(onTandem), tree(onObserver), "the restarted observer's tree");

                    Ports four = Ports.fresh(4);
                    String added;
                    try (ZooKeeperAdmin viaObserver = admin(two)) {
                        added = text(viaObserver.reconfigure("server.4=127.0.0.1:" + four.quorumPort() + ":"
                                + four.electionPort() + ":observer;127.0.0.1:" + four.clientPort(), null, null, -1,
                                null));
                    }
                    assertTrue(added.contains("server.4=") && added.contains("server.2="), added);
                    assertEquals(added, assertSameConfig(onTandem, onOne, onObserver));
                    Path activated = temp.resolve("2").resolve("zoo.cfg.dynamic." + version(added));
                    assertTrue(ApacheQuorumProcess.await(() -> Files.exists(activated), TIMEOUT_MS),
                            () -> "the observer never activated " + activated.getFileName() + ":\n"
                                    + observer.logTail());
                    assertEquals("observer", observer.mode(), observer::logTail);
                    writeAndSeeEverywhere("/after-reconfig", onObserver, onTandem, onOne);

                    follower.kill();
                    assertTrue(ApacheQuorumProcess.await(() -> !modeOf(three).equals("leader"), TIMEOUT_MS),
                            () -> "Tandem still leads with only the observer:\n" + tandem.logTail());
                }
            }
        }
    }

    /**
     * Tandem (sid 3) leads Apache member 1; Apache server 4, in no configuration of theirs, starts with the ensemble
     * and itself as its configuration (Apache's way to add a server), finds Tandem by election, syncs and follows
     * without a vote; the reconfig adding it commits (a quorum of {1, 3} and of {1, 3, 4}, 4 synced). With member 1
     * then killed, writes commit only because server 4 votes.
     */
    @Test
    void aBrandNewServerJoinsThroughATandemLeaderAndVotes() throws Exception {
        Ports one = Ports.fresh(1);
        Ports three = Ports.fresh(3);
        Ports four = Ports.fresh(4);
        List<String> settings = settings();
        try (TandemApacheModeProcess tandem = TandemApacheModeProcess.start(temp.resolve("tandem"), List.of(),
                settings, three, one, three);
             ZkClients clients = new ZkClients()) {
            awaitMode(tandem, three, "not serving|leader");
            try (ApacheQuorumProcess member = ApacheQuorumProcess.start(temp.resolve("1"), settings, one, one,
                    three)) {
                awaitMode(tandem, three, "leader");
                assertTrue(ApacheQuorumProcess.await(() -> member.mode().equals("follower"), TIMEOUT_MS),
                        member::logTail);
                ZooKeeper onTandem = clients.connect(three);
                ZooKeeper onOne = clients.connect(one);
                onTandem.create("/before", bytes("b"), Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);

                try (ApacheQuorumProcess joiner = ApacheQuorumProcess.start(temp.resolve("4"), settings, four, one,
                        three, four)) {
                    assertTrue(ApacheQuorumProcess.await(() -> joiner.mode().equals("follower"), TIMEOUT_MS),
                            () -> "the joiner is " + joiner.mode() + ":\n" + joiner.logTail() + "\nTandem log:\n"
                                    + tandem.logTail());
                    ZooKeeper onFour = clients.connect(four);
                    sync(onFour, "/before");
                    assertArrayEquals(bytes("b"), onFour.getData("/before", false, null), "synced before it votes");
                    String withFour;
                    try (ZooKeeperAdmin viaTandem = admin(three)) {
                        withFour = text(viaTandem.reconfigure(serverLine(four), null, null, -1, null));
                    }
                    assertTrue(withFour.contains("server.4=") && withFour.contains("server.1=")
                            && withFour.contains("server.3="), withFour);
                    assertEquals(withFour, assertSameConfig(onTandem, onOne, onFour));

                    member.kill();
                    ZkClients.retryOnConnectionLoss(() -> onFour.create("/votes", bytes("v"), Ids.OPEN_ACL_UNSAFE,
                            CreateMode.PERSISTENT));
                    sync(onTandem, "/votes");
                    assertArrayEquals(bytes("v"), onTandem.getData("/votes", false, null));
                    assertEquals("leader", modeOf(three), tandem::logTail);
                    assertEquals(tree(onTandem), tree(onFour), "the trees");
                }
            }
        }
    }

    /** Both kinds of member: reconfig on, a super user to ask it, Apache's session limit raised to Tandem's. */
    private static List<String> settings() throws Exception {
        List<String> settings = new ArrayList<>(List.of("reconfigEnabled=true",
                "DigestAuthenticationProvider.superDigest=" + DigestAuthenticationProvider.generateDigest(SUPER),
                "maxSessionTimeout=" + TandemApacheModeProcess.SESSION_TIMEOUT_MS,
                "4lw.commands.whitelist=srvr,mntr"));
        return settings;
    }

    /** The mntr four-letter word's answer from {@code member}, or why there is none. */
    private static String mntr(Ports member) {
        try (java.net.Socket socket = new java.net.Socket("127.0.0.1", member.clientPort())) {
            socket.setSoTimeout(5_000);
            socket.getOutputStream().write("mntr".getBytes(StandardCharsets.US_ASCII));
            return new String(socket.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
        } catch (java.io.IOException e) {
            return e.toString();
        }
    }

    private static String modeOf(Ports member) {
        return ApacheQuorumProcess.modeAt(member.clientPort());
    }

    private static void awaitMode(TandemApacheModeProcess tandem, Ports member, String modes)
            throws InterruptedException {
        assertTrue(ApacheQuorumProcess.await(() -> modeOf(member).matches(modes), TIMEOUT_MS),
                () -> "Tandem is " + modeOf(member) + ", not " + modes + ":\n" + tandem.logTail());
    }

    private static ZooKeeperAdmin admin(Ports member) throws Exception {
        ZooKeeperAdmin admin = new ZooKeeperAdmin("127.0.0.1:" + member.clientPort(),
                TandemApacheModeProcess.SESSION_TIMEOUT_MS, e -> { });
        ZkClients.awaitConnected(admin);
        admin.addAuthInfo("digest", SUPER.getBytes(StandardCharsets.UTF_8));
        return admin;
    }

    /** The version line of a configuration text, in hex as Apache names its dynamic files. */
    private static String version(String config) {
        return config.substring(config.lastIndexOf("version=") + "version=".length()).trim();
    }
}
