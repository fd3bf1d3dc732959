package io.tandem.compat.zookeeper;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.Watcher.Event.EventType;
import org.apache.zookeeper.Watcher.Event.KeeperState;
import org.apache.zookeeper.ZooDefs.Ids;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.data.ACL;
import org.apache.zookeeper.data.Stat;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** A server restart on the same port and data directory: data, Stats, ACLs, sessions and zxids survive. */
@ExtendWith(ZkTargetExtension.class)
class ZkRestartCompatTest {

    @Test
    void aRestartShouldKeepEveryNodeWithItsStatAclAndTheLiveSessionWithItsEphemerals(ZkTarget target) throws Exception {
        Zk.EventRecorder events = new Zk.EventRecorder();
        ZooKeeper client = Zk.connect(target.connectString(), 20_000, events);
        try {
            client.create("/kept", new byte[] {1, 2, 3}, Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
            client.create("/kept/child", null, Ids.READ_ACL_UNSAFE, CreateMode.PERSISTENT);
            client.create("/kept/seq-", null, Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT_SEQUENTIAL);
            client.setData("/kept", new byte[] {4}, 0);
            client.create("/kept/eph", null, Ids.OPEN_ACL_UNSAFE, CreateMode.EPHEMERAL);
            client.create("/kept/deleted", null, Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
            client.delete("/kept/deleted", -1);
            Stat parentBefore = client.exists("/kept", false);
            Stat childBefore = client.exists("/kept/child", false);
            List<ACL> aclBefore = client.getACL("/kept/child", null);
            long session = client.getSessionId();
            client.getData("/kept", true, null);

            target.restart();

            events.awaitState(KeeperState.SyncConnected);
            assertEquals(session, client.getSessionId(), "the session survives a restart within its timeout");
            assertArrayEquals(new byte[] {4}, client.getData("/kept", false, null));
            assertEquals(parentBefore, client.exists("/kept", false));
            assertEquals(childBefore, client.exists("/kept/child", false));
            assertEquals(aclBefore, client.getACL("/kept/child", null));
            assertEquals(session, client.exists("/kept/eph", false).getEphemeralOwner());
            assertEquals(List.of("child", "eph", "seq-0000000001"), client.getChildren("/kept", false).stream().sorted().toList());

            // zxids keep increasing after the restart and sequence numbers continue (numbered by creates: 4 so far).
            Stat next = new Stat();
            assertEquals("/kept/seq-0000000004",
                    client.create("/kept/seq-", null, Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT_SEQUENTIAL, next));
            assertTrue(next.getCzxid() > parentBefore.getPzxid());

            // The data watch set before the restart was re-registered and still fires.
            client.setData("/kept", new byte[] {5}, -1);
            events.expect(EventType.NodeDataChanged, "/kept");
        } finally {
            client.close();
        }

        // A second restart after the session closed: its ephemeral stays gone.
        target.restart();
        try (ZooKeeper fresh = Zk.connect(target.connectString())) {
            assertEquals(List.of("child", "seq-0000000001", "seq-0000000004"),
                    fresh.getChildren("/kept", false).stream().sorted().toList());
        }
    }
}
