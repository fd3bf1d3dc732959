package io.tandem.server.zab.apache;

import static io.tandem.server.zab.apache.ApacheQuorumProcess.mntr;
import static io.tandem.server.zab.apache.ApacheQuorumProcess.modeOf;
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

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tandem.server.http.JsonShapes;
import io.tandem.server.zab.apache.ApacheQuorumProcess.Ports;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.ZooDefs.Ids;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.admin.ZooKeeperAdmin;
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
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newHttpClient();
    /** Apache's Leader gauges of mntr about its learners. */
    private static final List<String> LEARNER_GAUGES = List.of("zk_learners", "zk_synced_followers",
            "zk_synced_non_voting_followers", "zk_synced_observers");

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
                    try (ZooKeeperAdmin viaObserver = ReconfigAdmin.connect(two)) {
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
                    // Apache's Leader counts the joiner among its forwarding followers, and apart as one that the
                    // configuration in force makes no voter (getNonVotingFollowers).
                    Map<String, String> joining = gauges(mntr(three));
                    assertEquals(Map.of("zk_learners", "2", "zk_synced_followers", "2",
                            "zk_synced_non_voting_followers", "1", "zk_synced_observers", "0"), joining);
                    String withFour;
                    try (ZooKeeperAdmin viaTandem = ReconfigAdmin.connect(three)) {
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

    /**
     * The same ensemble twice, Apache follower 1 and Apache observer 2 under leader 3: Apache 3.9.5's leader in one,
     * Tandem's (Apache mode) in the other, each with its AdminServer. After the same client work through each
     * observer (a session, a write, a sync: three forwarded REQUESTs), both leaders answer {@code observers} alike (the
     * observer with its LearnerHandler figures: the same requests and last zxid, the write's), {@code
     * observer_connection_stat_reset} starts its counters over on both, {@code leader} and {@code voting_view} have
     * the same shapes and voters, and mntr's learner gauges agree.
     */
    @Test
    void aTandemLeaderReportsItsApacheObserverAsApachesLeaderDoes() throws Exception {
        Ports[] apache = {Ports.fresh(1), Ports.fresh(2), Ports.fresh(3)};
        Ports[] ours = {Ports.fresh(1), Ports.fresh(2), Ports.fresh(3)};
        int apacheAdmin = ApacheQuorumProcess.freePort();
        int tandemAdmin = ApacheQuorumProcess.freePort();
        Set<Long> observers = Set.of(2L);
        List<String> settings = settings();
        try (ApacheQuorumProcess apacheLeader = ApacheQuorumProcess.start(temp.resolve("a3"),
                withAdmin(settings, apacheAdmin, true), observers, apache[2], apache);
             ApacheQuorumProcess apacheFollower = ApacheQuorumProcess.start(temp.resolve("a1"), settings, observers,
                     apache[0], apache);
             ApacheQuorumProcess apacheObserver = ApacheQuorumProcess.start(temp.resolve("a2"), settings, observers,
                     apache[1], apache);
             TandemApacheModeProcess tandem = TandemApacheModeProcess.start(temp.resolve("tandem"), List.of(),
                     withAdmin(settings, tandemAdmin, false), observers, ours[2], ours);
             ZkClients clients = new ZkClients()) {
            awaitMode(tandem, ours[2], "not serving|leader");
            try (ApacheQuorumProcess follower = ApacheQuorumProcess.start(temp.resolve("1"), settings, observers,
                    ours[0], ours);
                 ApacheQuorumProcess observer = ApacheQuorumProcess.start(temp.resolve("2"), settings, observers,
                         ours[1], ours)) {
                List<ApacheQuorumProcess> apacheMembers = List.of(apacheFollower, apacheObserver, apacheLeader);
                List<ApacheQuorumProcess> ourLearners = List.of(follower, observer);
                assertTrue(ApacheQuorumProcess.await(() -> modeOf(ours[2]).equals("leader")
                        && apacheLeader.mode().equals("leader")
                        && follower.mode().equals("follower") && observer.mode().equals("observer")
                        && apacheFollower.mode().equals("follower") && apacheObserver.mode().equals("observer"),
                        TIMEOUT_MS), () -> "modes: Apache " + apacheMembers.stream().map(ApacheQuorumProcess::mode)
                        .toList() + ", Tandem " + modeOf(ours[2]) + " " + ourLearners.stream()
                        .map(ApacheQuorumProcess::mode).toList() + "\nTandem log:\n" + tandem.logTail());
                long[] written = new long[2];
                for (Ports[] ensemble : List.of(apache, ours)) {
                    ZooKeeper onObserver = clients.connect(ensemble[1]);
                    String path = onObserver.create("/via-observer", bytes("o"), Ids.OPEN_ACL_UNSAFE,
                            CreateMode.PERSISTENT);
                    sync(onObserver, "/");
                    written[ensemble == apache ? 0 : 1] = onObserver.exists(path, false).getMzxid();
                }

                JsonNode theirs = command(apacheAdmin, "observers");
                JsonNode mine = command(tandemAdmin, "observers");
                List<String> shapes = new java.util.ArrayList<>();
                JsonShapes.compare("observers", theirs, mine, shapes);
                for (String command : List.of("leader", "voting_view")) {
                    JsonShapes.compare(command, command(apacheAdmin, command), command(tandemAdmin, command), shapes);
                }
                assertEquals(List.of(), shapes, "Apache: " + theirs + "\nTandem: " + mine);
                for (JsonNode answer : List.of(theirs, mine)) {
                    String name = (answer == theirs ? "Apache " : "Tandem ") + answer;
                    assertEquals(1, answer.get("synced_observers").asInt(), name);
                    assertEquals(1, answer.get("observers").size(), name);
                    JsonNode figures = answer.get("observers").get(0);
                    assertEquals(2, figures.get("sid").asLong(), name);
                    assertTrue(figures.get("remote_socket_address").asText().startsWith("/127.0.0.1:"), name);
                    assertTrue(figures.get("established").asLong() > System.currentTimeMillis() - 120_000, name);
                    assertTrue(figures.get("packets_sent").asLong() > 0, name);
                    assertTrue(figures.get("packets_received").asLong() > 0, name);
                    // The observer forwarded its client's createSession, create and sync.
                    assertEquals(3, figures.get("requests").asLong(), name);
                    // The newest zxid sent: the INFORM of the write, then the PINGs carrying it as the last proposed.
                    assertEquals(written[answer == theirs ? 0 : 1], figures.get("last_zxid").asLong(), name);
                }
                for (int admin : new int[] {apacheAdmin, tandemAdmin}) {
                    JsonNode before = command(admin, "observers").get("observers").get(0);
                    command(admin, "observer_connection_stat_reset");
                    JsonNode after = command(admin, "observers").get("observers").get(0);
                    String name = (admin == apacheAdmin ? "Apache" : "Tandem") + " before " + before + " after "
                            + after;
                    assertEquals(0, after.get("requests").asLong(), name);
                    assertTrue(after.get("packets_sent").asLong() < before.get("packets_sent").asLong(), name);
                    assertEquals(before.get("established"), after.get("established"), name);
                }
                for (int admin : new int[] {apacheAdmin, tandemAdmin}) {
                    JsonNode leader = command(admin, "leader");
                    assertTrue(leader.get("is_leader").asBoolean(), leader.toString());
                    assertEquals(3, leader.get("leader_id").asLong(), leader.toString());
                    JsonNode view = command(admin, "voting_view").get("current_config");
                    List<String> voters = new java.util.ArrayList<>();
                    view.fieldNames().forEachRemaining(voters::add);
                    assertEquals(List.of("1", "3"), voters, view.toString());
                }
                Map<String, String> apacheGauges = gauges(mntr(apache[2]));
                assertEquals(Map.of("zk_learners", "2", "zk_synced_followers", "1",
                        "zk_synced_non_voting_followers", "0", "zk_synced_observers", "1"), apacheGauges);
                assertEquals(apacheGauges, gauges(mntr(ours[2])));
            }
        }
    }

    /** {@code settings} with an AdminServer on {@code port} of 127.0.0.1 (Apache's must be switched on). */
    private static List<String> withAdmin(List<String> settings, int port, boolean apache) {
        List<String> with = new ArrayList<>(settings);
        if (apache) with.add("admin.enableServer=true");
        with.add("admin.serverAddress=127.0.0.1");
        with.add("admin.serverPort=" + port);
        return with;
    }

    /** An AdminServer command's JSON answer. */
    private static JsonNode command(int adminPort, String command) throws Exception {
        HttpResponse<byte[]> response = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + adminPort
                + "/commands/" + command)).timeout(Duration.ofSeconds(20)).build(),
                HttpResponse.BodyHandlers.ofByteArray());
        assertEquals(200, response.statusCode(), command + ": " + new String(response.body(), StandardCharsets.UTF_8));
        return JSON.readTree(response.body());
    }

    /** mntr's learner gauges ({@link #LEARNER_GAUGES}) from its answer. */
    private static Map<String, String> gauges(String mntr) {
        Map<String, String> gauges = new java.util.TreeMap<>();
        for (String line : mntr.split("\n")) {
            String[] field = line.split("\t", 2);
            if (field.length == 2 && LEARNER_GAUGES.contains(field[0])) gauges.put(field[0], field[1]);
        }
        assertEquals(LEARNER_GAUGES.size(), gauges.size(), mntr);
        return gauges;
    }

    /** Both kinds of member: reconfig on, a super user to ask it, Apache's session limit raised to Tandem's. */
    private static List<String> settings() throws Exception {
        return ReconfigAdmin.settings(MixedEnsemble.MNTR_SETTINGS);
    }

    private static void awaitMode(TandemApacheModeProcess tandem, Ports member, String modes)
            throws InterruptedException {
        assertTrue(ApacheQuorumProcess.await(() -> modeOf(member).matches(modes), TIMEOUT_MS),
                () -> "Tandem is " + modeOf(member) + ", not " + modes + ":\n" + tandem.logTail());
    }

    /** The version line of a configuration text, in hex as Apache names its dynamic files. */
    private static String version(String config) {
        return config.substring(config.lastIndexOf("version=") + "version=".length()).trim();
    }
}
