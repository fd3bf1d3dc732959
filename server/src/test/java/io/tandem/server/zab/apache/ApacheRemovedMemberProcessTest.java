package io.tandem.server.zab.apache;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tandem.server.zab.apache.ApacheQuorumProcess.Ports;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.ZooDefs.Ids;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.admin.ZooKeeperAdmin;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * What Apache ZooKeeper 3.9.5 does with a member a reconfig removes while it keeps running, on three real Apache
 * processes: the reference Tandem's Zab follows (ZabMembership.activate; ZabReconfigTest and
 * VoterReconfigEnsembleTest check Tandem against the same facts). QuorumPeer.updateLearnerType makes the removed
 * server a non-voting participant, and since its leader is still a voter it goes on following it: {@code srvr} says
 * follower, it serves clients, and it sees writes made after its removal. A later reconfig naming it makes it a voter
 * again without a restart: with it and the leader alone up, writes still commit.
 */
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class ApacheRemovedMemberProcessTest {
    private static final long TIMEOUT_MS = ZkClients.TIMEOUT_MS;

    @TempDir
    Path temp;

    @Test
    void aRemovedApacheMemberFollowsOnAsANonVoterAndVotesAgainOnceAddedBack() throws Exception {
        Ports[] ports = {Ports.fresh(1), Ports.fresh(2), Ports.fresh(3)};
        List<String> extra = List.of("reconfigEnabled=true", "skipACL=yes");
        List<ApacheQuorumProcess> members = new ArrayList<>();
        try (ZkClients clients = new ZkClients()) {
            for (Ports p : ports) {
                members.add(ApacheQuorumProcess.start(temp.resolve("apache" + p.sid()), extra, p, ports));
            }
            assertTrue(ApacheQuorumProcess.await(() -> leader(members) > 0 && followers(members) == 2, TIMEOUT_MS),
                    () -> "no leader: " + modes(members));
            int leader = leader(members);
            int removed = leader % 3 + 1;
            int other = 6 - leader - removed;
            ZooKeeper viaLeader = clients.connect(ports[leader - 1]);
            ZooKeeper viaRemoved = clients.connect(ports[removed - 1]);
            viaLeader.create("/before", bytes("1"), Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);

            ZooKeeperAdmin admin = new ZooKeeperAdmin("127.0.0.1:" + ports[leader - 1].clientPort(), 30_000,
                    event -> { });
            try {
                ZkClients.awaitConnected(admin);
                String config = text(admin.reconfigure((String) null, Integer.toString(removed), null, -1, null));
                assertFalse(config.contains("server." + removed + "="), config);

                Thread.sleep(3 * ApacheQuorumProcess.TICK_TIME_MS);
                assertEquals("follower", members.get(removed - 1).mode(),
                        "Apache's removed server goes on following: " + modes(members));
                viaLeader.create("/after-removal", bytes("2"), Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
                ZkClients.sync(viaRemoved, "/after-removal");
                assertEquals("2", text(viaRemoved.getData("/after-removal", false, null)),
                        "and serves its clients what the ensemble commits after its removal");
                assertEquals(config, text(viaRemoved.getConfig(false, null)), "it runs the configuration without it");

                String line = "server." + removed + "=127.0.0.1:" + ports[removed - 1].quorumPort() + ":"
                        + ports[removed - 1].electionPort() + ":participant;127.0.0.1:"
                        + ports[removed - 1].clientPort();
                String back = text(admin.reconfigure(line, null, null, -1, null));
                assertTrue(back.contains("server." + removed + "="), back);
            } finally {
                admin.close();
            }
            assertEquals("follower", members.get(removed - 1).mode(), "added back without a restart");
            // With the other follower gone, the leader and the member added back are a quorum of three only if the
            // latter votes again.
            members.get(other - 1).kill();
            viaLeader.create("/after-return", bytes("3"), Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
            ZkClients.sync(viaRemoved, "/after-return");
            assertEquals("3", text(viaRemoved.getData("/after-return", false, null)));
            assertEquals("leader", members.get(leader - 1).mode(), modes(members));
        } finally {
            for (ApacheQuorumProcess member : members) {
                member.close();
            }
        }
    }

    private static int leader(List<ApacheQuorumProcess> members) {
        for (ApacheQuorumProcess member : members) {
            if (member.mode().equals("leader")) return (int) member.ports.sid();
        }
        return -1;
    }

    private static int followers(List<ApacheQuorumProcess> members) {
        return (int) members.stream().filter(member -> member.mode().equals("follower")).count();
    }

    private static String modes(List<ApacheQuorumProcess> members) {
        StringBuilder text = new StringBuilder();
        for (ApacheQuorumProcess member : members) text.append(member.ports.sid()).append('=').append(member.mode())
                .append(' ');
        return text.toString().trim();
    }

    private static byte[] bytes(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }

    private static String text(byte[] data) {
        return new String(data, StandardCharsets.UTF_8);
    }
}
