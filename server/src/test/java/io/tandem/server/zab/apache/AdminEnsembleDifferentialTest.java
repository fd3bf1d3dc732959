package io.tandem.server.zab.apache;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tandem.server.Tandem;
import io.tandem.server.TandemConfig;
import io.tandem.server.http.JsonShapes;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.ZooKeeper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The AdminServer's ensemble commands side by side: three Apache ZooKeeper 3.9.5 voters and an observer (real
 * processes, with Apache's own Jetty AdminServer) and three Tandem voters and an observer (in-process, Tandem's Zab),
 * asked the same commands on the leader, a follower and the observer. The answers must have Apache's JSON shapes and
 * agree where the ensembles agree: who leads, who votes, the Zab phase, the synced observer with its LearnerHandler
 * figures, the digest log at every 128th zxid (the same on every member of an ensemble), the initial configuration
 * (none on a quorum server). A restore on a follower is where Tandem differs on purpose: Apache's replaces that
 * member's tree alone and it diverges from its ensemble; Tandem refuses it (see server/README.md).
 */
class AdminEnsembleDifferentialTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newHttpClient();
    private static final int MEMBERS = 4;
    private static final long OBSERVER = 4;
    /** Writes past the first digest-log entry (zxid counter 128), the session's own txns included. */
    private static final int WRITES = 140;
    private static final List<String> COMMANDS = List.of("leader", "voting_view", "zabstate", "observers", "hash",
            "initial_configuration", "observer_connection_stat_reset");

    @TempDir
    Path dir;

    /** One member of either ensemble: its id, role, client and admin ports. */
    private record Member(long id, String role, int clientPort, int adminPort) {
    }

    @Test
    void shouldAnswerTheEnsembleCommandsAsApachesEnsembleDoes() throws Exception {
        ApacheQuorumProcess.Ports[] apachePorts = new ApacheQuorumProcess.Ports[MEMBERS];
        int[] apacheAdmin = new int[MEMBERS + 1];
        for (int sid = 1; sid <= MEMBERS; sid++) {
            apachePorts[sid - 1] = ApacheQuorumProcess.Ports.fresh(sid);
            apacheAdmin[sid] = ApacheQuorumProcess.freePort();
        }
        List<ApacheQuorumProcess> apache = new ArrayList<>();
        Tandem[] tandem = new Tandem[MEMBERS + 1];
        try {
            for (ApacheQuorumProcess.Ports ports : apachePorts) {
                apache.add(ApacheQuorumProcess.start(dir.resolve("apache" + ports.sid()), List.of(
                        "admin.enableServer=true", "admin.serverAddress=127.0.0.1",
                        "4lw.commands.whitelist=srvr,hash",
                        "admin.serverPort=" + apacheAdmin[(int) ports.sid()]), Set.of(OBSERVER), ports, apachePorts));
            }
            startTandem(tandem);
            for (ApacheQuorumProcess process : apache) {
                awaitOwnAdminServer(apacheAdmin[(int) process.ports.sid()], process);
            }

            List<Member> theirs = awaitRoles(apache.stream().map(p -> new Member(p.ports.sid(), "",
                    p.ports.clientPort(), apacheAdmin[(int) p.ports.sid()])).toList());
            List<Member> ours = new ArrayList<>();
            for (int id = 1; id <= MEMBERS; id++) {
                ours.add(new Member(id, "", tandem[id].zookeeperPort(), tandem[id].adminPort()));
            }
            ours = awaitRoles(ours);
            write(theirs);
            write(ours);

            for (List<Member> ensemble : List.of(theirs, ours)) {
                String name = ensemble == theirs ? "Apache" : "Tandem";
                long leaderId = byRole(ensemble, "leader").id();
                JsonNode firstHash = null;
                for (Member member : ensemble) {
                    JsonNode leader = command(member.adminPort(), "leader");
                    assertEquals(member.role().equals("leader"), leader.get("is_leader").asBoolean(), name + leader);
                    assertEquals(leaderId, leader.get("leader_id").asLong(), name + leader);
                    assertEquals("127.0.0.1", leader.get("leader_ip").asText(), name + leader);
                    JsonNode view = command(member.adminPort(), "voting_view").get("current_config");
                    assertEquals(List.of("1", "2", "3"), fieldNames(view), name + " voting_view " + view);
                    JsonNode zab = command(member.adminPort(), "zabstate");
                    assertEquals("broadcast", zab.get("zabstate").asText(), name + zab);
                    assertEquals(member.id(), zab.get("myid").asLong(), name + zab);
                    assertEquals(member.role().equals("leader"), zab.get("is_leader").asBoolean(), name + zab);
                    assertEquals(member.id() != OBSERVER, zab.get("voting").asBoolean(), name + zab);
                    JsonNode observers = command(member.adminPort(), "observers");
                    if (member.role().equals("leader")) {
                        assertEquals(1, observers.get("synced_observers").asInt(), name + observers);
                        JsonNode observer = observers.get("observers").get(0);
                        assertEquals(OBSERVER, observer.get("sid").asLong(), name + observers);
                        assertTrue(observer.get("packets_sent").asLong() > 0, name + observers);
                        assertTrue(observer.get("last_zxid").asLong() >= WRITES, name + observers);
                        assertTrue(observer.get("remote_socket_address").asText().startsWith("/127.0.0.1:"),
                                name + observers);
                        // orst starts the counters over, as Apache's resetObserverConnectionStats: only the pings
                        // of the moment since are counted, not the writes' proposals and commits.
                        command(member.adminPort(), "orst");
                        JsonNode reset = command(member.adminPort(), "observers").get("observers").get(0);
                        assertTrue(reset.get("packets_sent").asLong() < WRITES, name + " before " + observer
                                + " after " + reset);
                        assertEquals(0, reset.get("requests").asLong(), name + reset);
                    } else {
                        assertEquals(0, observers.get("synced_observers").asInt(), name + observers);
                        assertEquals(0, observers.get("observers").size(), name + observers);
                    }
                    // Every member logged the digest at the same 128th zxids with the same values.
                    JsonNode hash = command(member.adminPort(), "hash").get("digests");
                    assertTrue(hash.size() >= 1, name + " member " + member.id() + " hash " + hash);
                    for (JsonNode entry : hash) {
                        assertEquals(0, entry.get("zxid").asLong() % 128, name + hash);
                        assertEquals(2, entry.get("digest_version").asInt(), name + hash);
                    }
                    // The hash four-letter word prints the same log, "zxid-in-hex: digest" a line.
                    StringBuilder lines = new StringBuilder();
                    for (JsonNode entry : hash) {
                        lines.append(Long.toHexString(entry.get("zxid").asLong())).append(": ")
                                .append(entry.get("digest").asLong()).append('\n');
                    }
                    assertEquals(lines.toString(), fourLetterWord(member.clientPort(), "hash"), name);
                    if (firstHash == null) {
                        firstHash = hash;
                    } else {
                        assertEquals(firstHash, hash, name + " members' digest logs differ");
                    }
                }
            }
            List<String> differences = new ArrayList<>();
            for (String role : List.of("leader", "follower", "observer")) {
                Member apacheMember = byRole(theirs, role);
                Member tandemMember = byRole(ours, role);
                for (String command : COMMANDS) {
                    JsonNode apacheAnswer = command(apacheMember.adminPort(), command);
                    JsonNode tandemAnswer = command(tandemMember.adminPort(), command);
                    List<String> found = new ArrayList<>();
                    JsonShapes.compare("", apacheAnswer, tandemAnswer, found);
                    if (!found.isEmpty()) {
                        differences.add(role + " " + command + ": " + found + "\n  Apache: " + apacheAnswer
                                + "\n  Tandem: " + tandemAnswer);
                    }
                }
            }
            assertTrue(differences.isEmpty(), String.join("\n", differences));
            // The leader's own mntr lines (Apache's Leader gauges): its learners and those synced, by kind.
            JsonNode apacheMonitor = command(byRole(theirs, "leader").adminPort(), "monitor");
            JsonNode tandemMonitor = command(byRole(ours, "leader").adminPort(), "monitor");
            for (String key : List.of("learners", "synced_followers", "synced_non_voting_followers",
                    "synced_observers")) {
                assertEquals(apacheMonitor.get(key), tandemMonitor.get(key), key + "\nApache: " + apacheMonitor
                        + "\nTandem: " + tandemMonitor);
            }
            assertTrue(apacheMonitor.get("leader_uptime").asLong() > 0);
            assertTrue(tandemMonitor.get("leader_uptime").asLong() > 0, tandemMonitor.toString());
            assertTrue(!command(byRole(ours, "follower").adminPort(), "monitor").has("learners"));
            assertProposalFigures(theirs, "Apache");
            assertProposalFigures(ours, "Tandem");
            List<String> shapes = new ArrayList<>();
            JsonShapes.compare("proposal_stats", command(byRole(theirs, "leader").adminPort(), "srvr")
                    .get("proposal_stats"), command(byRole(ours, "leader").adminPort(), "srvr")
                    .get("proposal_stats"), shapes);
            assertEquals(List.of(), shapes);

            // initial_configuration: Apache 3.9.5's quorum servers keep none (null), whatever their zoo.cfg said.
            for (ApacheQuorumProcess process : apache) {
                assertTrue(command(apacheAdmin[(int) process.ports.sid()], "initial_configuration")
                        .get("initial_configuration").isNull());
            }
            for (int id = 1; id <= MEMBERS; id++) {
                assertTrue(command(tandem[id].adminPort(), "icfg").get("initial_configuration").isNull());
            }

            // restore on a follower: Apache 3.9.5 replaces that member's tree alone (200), outside Zab, so it loses
            // what the ensemble committed after the snapshot while the others keep it, and applies later commits on
            // top: its replica has parted from the others for good. Tandem refuses (500, the error says why), and
            // every member keeps the same tree.
            Member apacheFollower = byRole(theirs, "follower");
            Map.Entry<Integer, List<Long>> apacheRestore = restoreOnFollower(theirs);
            assertEquals(200, apacheRestore.getKey());
            assertEquals(theirs.stream().map(Member::id).filter(id -> id != apacheFollower.id()).sorted().toList(),
                    apacheRestore.getValue().stream().sorted().toList(), "Apache's restored follower diverged");
            Map.Entry<Integer, List<Long>> tandemRestore = restoreOnFollower(ours);
            assertEquals(500, tandemRestore.getKey());
            assertEquals(ours.stream().map(Member::id).sorted().toList(),
                    tandemRestore.getValue().stream().sorted().toList(), "Tandem's members still agree");
        } finally {
            for (ApacheQuorumProcess process : apache) process.close();
            for (Tandem node : tandem) {
                if (node != null) node.close();
            }
        }
    }

    /**
     * Apache's proposal figures, after the writes: the leader's mntr sizes (its Leader's proposalStats, Apache's
     * serialized requests or Tandem's PROPOSAL frames, so the numbers differ; see docs/COMPATIBILITY.md) with min <=
     * last <= max, the same in srvr's line and the AdminServer's proposal_stats, no sync pending at rest; a follower
     * and an observer have none of them.
     */
    private static void assertProposalFigures(List<Member> ensemble, String name) throws Exception {
        Member leader = byRole(ensemble, "leader");
        JsonNode monitor = command(leader.adminPort(), "monitor");
        long last = monitor.get("last_proposal_size").asLong();
        long min = monitor.get("min_proposal_size").asLong();
        long max = monitor.get("max_proposal_size").asLong();
        assertTrue(0 < min && min <= last && last <= max, name + monitor);
        assertEquals(0, monitor.get("pending_syncs").asInt(), name + monitor);
        JsonNode stats = command(leader.adminPort(), "srvr").get("proposal_stats");
        assertEquals(List.of(last, min, max), List.of(stats.get("last_buffer_size").asLong(),
                stats.get("min_buffer_size").asLong(), stats.get("max_buffer_size").asLong()), name + stats);
        String srvr = fourLetterWord(leader.clientPort(), "srvr");
        // Printed for docs/COMPATIBILITY.md: the two measure different bytes, so the figures are not compared.
        System.out.println(name + " leader after the writes: proposal sizes last/min/max " + last + "/" + min + "/"
                + max + ", pending_syncs " + monitor.get("pending_syncs"));
        assertTrue(srvr.endsWith("\nProposal sizes last/min/max: " + last + "/" + min + "/" + max + "\n"),
                name + srvr);
        for (String role : List.of("follower", "observer")) {
            Member member = byRole(ensemble, role);
            JsonNode theirMonitor = command(member.adminPort(), "monitor");
            for (String key : List.of("last_proposal_size", "min_proposal_size", "max_proposal_size",
                    "pending_syncs")) {
                assertTrue(!theirMonitor.has(key), name + " " + role + " has " + key);
            }
            assertTrue(!command(member.adminPort(), "srvr").has("proposal_stats"), name + " " + role);
            assertTrue(!fourLetterWord(member.clientPort(), "srvr").contains("Proposal sizes"), name + " " + role);
        }
    }

    private void startTandem(Tandem[] tandem) throws Exception {
        int[] clientPorts = new int[MEMBERS + 1];
        Map<String, String> lines = new LinkedHashMap<>();
        for (int id = 1; id <= MEMBERS; id++) {
            clientPorts[id] = ApacheQuorumProcess.freePort();
            lines.put("server." + id, "127.0.0.1:" + ApacheQuorumProcess.freePort() + ":"
                    + ApacheQuorumProcess.freePort() + (id == OBSERVER ? ":observer" : ""));
        }
        for (int id = 1; id <= MEMBERS; id++) {
            TandemConfig config = TandemConfig.forTests(dir.resolve("tandem" + id))
                    .roles(EnumSet.of(TandemConfig.Role.ZOOKEEPER))
                    .zookeeperPort(clientPorts[id])
                    .set("myid", Integer.toString(id))
                    .set("tickTime", Integer.toString(ApacheQuorumProcess.TICK_TIME_MS))
                    .set("initLimit", "20")
                    .set("syncLimit", "5")
                    .set("admin.serverPort", "0")
                    .set("4lw.commands.whitelist", "srvr,hash");
            lines.forEach(config::set);
            if (id == OBSERVER) config.set("peerType", "observer");
            tandem[id] = Tandem.start(config);
        }
    }

    /**
     * Waits until the Apache member's AdminServer answers on {@code adminPort} with that member's own configuration
     * (its client port). The port came from {@link io.tandem.server.TestPorts}, so no other fork of this build hands it
     * out, but the member's JVM binds it seconds later, and Apache only logs a bind failure and runs on without its
     * AdminServer: whatever took the port meanwhile (another build on the machine) would answer, or close the
     * connection with an empty answer, where the member should. Fail here, naming the member, rather than later on
     * the first command with an answer that is not the member's.
     */
    private static void awaitOwnAdminServer(int adminPort, ApacheQuorumProcess process) throws Exception {
        String[] seen = {"nothing"};
        boolean own = ApacheQuorumProcess.await(() -> {
            try {
                HttpResponse<byte[]> answer = send(adminPort, "GET", "configuration", null);
                seen[0] = answer.statusCode() + " " + new String(answer.body());
                JsonNode conf = answer.body().length == 0 ? null : JSON.readTree(answer.body());
                return conf != null && conf.path("client_port").asInt() == process.ports.clientPort();
            } catch (Exception e) {
                seen[0] = e.toString();
                return false;
            }
        }, 60_000);
        assertTrue(own, "Apache member " + process.ports.sid() + "'s AdminServer on " + adminPort + " answered "
                + seen[0] + "\n" + process.logTail());
    }

    /** Waits until every member serves, and names each one's role from srvr's Mode line. */
    private static List<Member> awaitRoles(List<Member> members) throws Exception {
        List<Member> named = new ArrayList<>();
        for (Member member : members) {
            String[] mode = new String[1];
            assertTrue(ApacheQuorumProcess.await(() -> {
                mode[0] = ApacheQuorumProcess.modeAt(member.clientPort());
                return Set.of("leader", "follower", "observer").contains(mode[0]);
            }, 60_000), "member " + member.id() + " on " + member.clientPort() + ": " + mode[0]);
            named.add(new Member(member.id(), mode[0], member.clientPort(), member.adminPort()));
        }
        return named;
    }

    private static Member byRole(List<Member> members, String role) {
        return members.stream().filter(m -> m.role().equals(role)).findFirst()
                .orElseThrow(() -> new AssertionError("no " + role + " in " + members));
    }

    /** {@link #WRITES} creates through the leader, then a sync through every member so all applied them. */
    private static void write(List<Member> members) throws Exception {
        try (ZooKeeper zk = client(byRole(members, "leader").clientPort())) {
            zk.create("/fill", new byte[0], ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
            for (int i = 1; i < WRITES; i++) {
                zk.create("/fill/n" + i, new byte[] {(byte) i}, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
            }
        }
        for (Member member : members) {
            try (ZooKeeper zk = client(member.clientPort())) {
                CountDownLatch synced = new CountDownLatch(1);
                zk.sync("/", (rc, path, ctx) -> synced.countDown(), null);
                assertTrue(synced.await(30, TimeUnit.SECONDS));
                assertEquals(WRITES - 1, zk.getChildren("/fill", false).size());
            }
        }
    }

    private static ZooKeeper client(int port) throws Exception {
        CountDownLatch connected = new CountDownLatch(1);
        ZooKeeper zk = new ZooKeeper("127.0.0.1:" + port, 30_000, event -> {
            if (event.getState() == org.apache.zookeeper.Watcher.Event.KeeperState.SyncConnected) {
                connected.countDown();
            }
        });
        assertTrue(connected.await(30, TimeUnit.SECONDS));
        return zk;
    }

    /**
     * Takes a snapshot on the leader, creates /after through the leader, and restores the snapshot on a follower;
     * answers the restore's status and the members that have /after once a later write has reached them all.
     */
    private static Map.Entry<Integer, List<Long>> restoreOnFollower(List<Member> members) throws Exception {
        HttpResponse<byte[]> snapshot = send(byRole(members, "leader").adminPort(), "GET", "snapshot", null);
        assertEquals(200, snapshot.statusCode(), new String(snapshot.body()));
        try (ZooKeeper zk = client(byRole(members, "leader").clientPort())) {
            zk.create("/after", new byte[0], ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
        }
        HttpResponse<byte[]> restore = send(byRole(members, "follower").adminPort(), "POST", "restore",
                snapshot.body());
        try (ZooKeeper zk = client(byRole(members, "leader").clientPort())) {
            zk.create("/later", new byte[0], ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
        }
        List<Long> withAfter = new ArrayList<>();
        for (Member member : members) {
            try (ZooKeeper zk = client(member.clientPort())) {
                CountDownLatch synced = new CountDownLatch(1);
                zk.sync("/", (rc, path, ctx) -> synced.countDown(), null);
                assertTrue(synced.await(30, TimeUnit.SECONDS));
                assertTrue(zk.exists("/later", false) != null, "member " + member + " applies later writes");
                if (zk.exists("/after", false) != null) withAfter.add(member.id());
            }
        }
        return Map.entry(restore.statusCode(), withAfter);
    }

    private static HttpResponse<byte[]> send(int port, String method, String command, byte[] body) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/commands/"
                + command)).timeout(Duration.ofSeconds(30)).header("Authorization", "digest u:p");
        request.method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                : HttpRequest.BodyPublishers.ofByteArray(body));
        return HTTP.send(request.build(), HttpResponse.BodyHandlers.ofByteArray());
    }

    private static JsonNode command(int port, String command) throws Exception {
        HttpResponse<byte[]> response = send(port, "GET", command, null);
        assertEquals(200, response.statusCode(), command + ": " + new String(response.body()));
        return JSON.readTree(response.body());
    }

    private static String fourLetterWord(int clientPort, String word) throws Exception {
        try (java.net.Socket socket = new java.net.Socket("127.0.0.1", clientPort)) {
            socket.setSoTimeout(10_000);
            socket.getOutputStream().write(word.getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            return new String(socket.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.US_ASCII);
        }
    }

    private static List<String> fieldNames(JsonNode node) {
        List<String> names = new ArrayList<>();
        node.fieldNames().forEachRemaining(names::add);
        return names;
    }
}
