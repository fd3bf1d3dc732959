package io.tandem.server.zab.apache;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tandem.server.zab.FileZabDisk;
import io.tandem.server.zab.ZabConfig;
import io.tandem.server.zab.apache.ApacheQuorumProcess.Ports;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.ZooDefs.Ids;
import org.apache.zookeeper.ZooKeeper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A Tandem member's whole quorum loop in an ensemble with two Apache ZooKeeper 3.9.5 processes: it elects and follows
 * the Apache leader, and when that leader is killed it takes part in the next election and follows the new leader,
 * which can only lead with Tandem as its follower.
 */
@Timeout(value = 240, unit = TimeUnit.SECONDS)
class ApacheQuorumPeerInteropTest {
    private static final long TIMEOUT_MS = 90_000;

    @TempDir
    Path temp;

    /** The paths of committed creates, in commit order. */
    private static final class Creates implements LearnerApplication {
        final List<String> paths = new CopyOnWriteArrayList<>();

        @Override
        public void onSnapshot(long zxid, byte[] apacheSnapshot) {
        }

        @Override
        public void onCommit(long zxid, byte[] txn) {
            ByteBuffer buffer = ByteBuffer.wrap(txn);
            int type = buffer.getInt(28);
            if (type == 1 || type == 15) {
                buffer.position(32);
                byte[] path = new byte[buffer.getInt()];
                buffer.get(path);
                paths.add(new String(path, StandardCharsets.UTF_8));
            }
        }
    }

    @Test
    void tandemFollowsTheNextApacheLeaderAfterTheLeaderIsKilled() throws Exception {
        // Tandem has the lowest sid: it cannot lead Apache followers yet, and with equal histories it never must.
        MixedEnsemble ensemble = MixedEnsemble.withApacheDefaults(temp, 1);
        Ports apache2 = ensemble.ports(2);
        Ports apache3 = ensemble.ports(3);
        Map<Long, ApacheElection.Member> members = ensemble.members();
        Creates applied = new Creates();
        int tick = ApacheQuorumProcess.TICK_TIME_MS;
        try (FileZabDisk disk = FileZabDisk.open(ZabConfig.of(1, 1, 2, 3), temp.resolve("tandem"));
             ApacheQuorumPeer peer = new ApacheQuorumPeer(1, members, disk, 0, 0, 0, applied, tick, 10, 5).start();
             ApacheQuorumProcess two = ensemble.startApache(2);
             ApacheQuorumProcess three = ensemble.startApache(3)) {
            // Whichever Apache member won (3 on equal histories when all start together; 2 when Tandem and 2 formed
            // a quorum before 3 was up), Tandem follows it.
            // The leader is read once, in the check that accepts it: a second read could see another (or none).
            AtomicLong followed = new AtomicLong(-1);
            assertTrue(ApacheQuorumProcess.await(() -> {
                long leader = peer.leaderId();
                if (!peer.isServing() || (leader != 2 && leader != 3)) return false;
                followed.set(leader);
                return true;
            }, TIMEOUT_MS), () -> "Tandem: leader " + peer.leaderId() + ", serving " + peer.isServing());
            long first = followed.get();
            ApacheQuorumProcess survivor = first == 3 ? two : three;
            Ports survivorPorts = first == 3 ? apache2 : apache3;
            try (ZooKeeper client = connect(survivorPorts.clientPort())) {
                client.create("/first", null, Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
            }
            assertTrue(ApacheQuorumProcess.await(() -> applied.paths.contains("/first"), TIMEOUT_MS));

            (first == 3 ? three : two).kill();
            // The other Apache member can only lead with Tandem following.
            long next = first == 3 ? 2 : 3;
            assertTrue(ApacheQuorumProcess.await(() -> peer.isServing() && peer.leaderId() == next, TIMEOUT_MS),
                    () -> "Tandem: leader " + peer.leaderId() + ", serving " + peer.isServing());
            assertTrue(ApacheQuorumProcess.await(() -> survivor.mode().equals("leader"), TIMEOUT_MS), survivor::mode);
            try (ZooKeeper client = connect(survivorPorts.clientPort())) {
                client.create("/after-failover", null, Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
                assertTrue(client.exists("/first", false) != null);
            }
            assertTrue(ApacheQuorumProcess.await(() -> applied.paths.contains("/after-failover"), TIMEOUT_MS),
                    () -> "applied: " + applied.paths);
            assertEquals(1, applied.paths.stream().filter("/first"::equals).count(), "applied once");
        }
    }

    private static ZooKeeper connect(int port) throws Exception {
        ZooKeeper client = new ZooKeeper("127.0.0.1:" + port, 30_000, event -> { });
        assertTrue(ApacheQuorumProcess.await(() -> client.getState().isConnected(), TIMEOUT_MS));
        return client;
    }
}
