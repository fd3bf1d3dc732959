package io.tandem.server.zookeeper;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.tandem.server.TestPorts;
import io.tandem.zk.wire.JuteInput;
import io.tandem.zk.wire.OpCode;
import io.tandem.zk.wire.proto.ReplyHeader;
import io.tandem.zk.wire.proto.SetWatches;
import io.tandem.zk.wire.proto.SetWatches2;
import io.tandem.zk.wire.proto.WatcherEvent;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.zookeeper.AddWatchMode;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.WatchedEvent;
import org.apache.zookeeper.Watcher.Event.EventType;
import org.apache.zookeeper.Watcher.Event.KeeperState;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.ZooKeeper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** setWatches / setWatches2: re-registration after a reconnect, firing at once for changes the client missed. */
class ZooKeeperSetWatchesTest {
    @TempDir
    Path dir;

    private ZkServer start(int port) throws Exception {
        return ZkServer.start(ZkServerConfig.from("127.0.0.1", port, dir, Map.<String, String>of()::get),
                StorageZkStore.open(dir), null);
    }

    @Test
    void shouldFireMissedChangesAtOnceWhenWatchesAreSet() throws Exception {
        ZkServer server = start(0);
        try (ZooKeeper zk = ZkTestSupport.connect("127.0.0.1:" + server.port())) {
            zk.create("/changed", null, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
            zk.create("/same", null, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
            zk.create("/gone", null, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
            zk.create("/kids", null, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
            long seen = zk.exists("/kids", false).getMzxid();
            zk.setData("/changed", new byte[] {1}, -1);
            zk.delete("/gone", -1);
            zk.create("/kids/new", null, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
            zk.create("/born", null, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);

            try (RawZkClient raw = new RawZkClient(server.port())) {
                raw.connect(0, new byte[16], 30_000, 0, false);
                raw.sendFrame(new io.tandem.zk.wire.proto.RequestHeader(-8, OpCode.SET_WATCHES),
                        new SetWatches(seen, List.of("/changed", "/same", "/gone"), List.of("/born", "/unborn"),
                                List.of("/kids")));
                List<String> events = new ArrayList<>();
                while (true) {
                    JuteInput in = JuteInput.decode(raw.readFrame(), input -> input);
                    ReplyHeader header = ReplyHeader.read(in);
                    if (header.xid() == -8) {
                        assertEquals(0, header.err());
                        break;
                    }
                    WatcherEvent event = WatcherEvent.read(in);
                    events.add(event.type() + " " + event.path());
                }
                assertEquals(List.of("3 /changed", "2 /gone", "1 /born", "4 /kids"), events);
                // The unchanged and not-yet-existing paths are now watched: changing them notifies this connection.
                zk.setData("/same", new byte[] {1}, -1);
                JuteInput in = JuteInput.decode(raw.readFrame(), input -> input);
                assertEquals(-1, ReplyHeader.read(in).xid());
                assertEquals("/same", WatcherEvent.read(in).path());
            }
        } finally {
            server.close();
        }
    }

    @Test
    void shouldKeepOneShotAndPersistentWatchesAcrossServerRestart() throws Exception {
        ZkServer server = start(TestPorts.freePort());
        int port = server.port();
        ZkTestSupport.Events states = new ZkTestSupport.Events();
        ZkTestSupport.Events dataEvents = new ZkTestSupport.Events();
        ZkTestSupport.Events recursiveEvents = new ZkTestSupport.Events();
        try (ZooKeeper zk = ZkTestSupport.connect("127.0.0.1:" + port, 30_000, states)) {
            zk.create("/tree", null, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
            zk.getData("/tree", dataEvents, null);
            zk.addWatch("/tree", recursiveEvents, AddWatchMode.PERSISTENT_RECURSIVE);
            server.close();
            server = start(port);
            WatchedEvent state;
            do {
                state = states.next();
            } while (state.getState() != KeeperState.Disconnected);
            do {
                state = states.next();
            } while (state.getState() != KeeperState.SyncConnected);
            // The client re-sent its watches with setWatches2; make sure that request was handled before changing data.
            zk.sync("/tree");
            zk.create("/tree/child", null, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
            WatchedEvent created = recursiveEvents.nextNodeEvent();
            assertEquals(EventType.NodeCreated, created.getType());
            assertEquals("/tree/child", created.getPath());
            zk.setData("/tree", new byte[] {1}, -1);
            assertEquals(EventType.NodeDataChanged, dataEvents.nextNodeEvent().getType());
            assertEquals(EventType.NodeDataChanged, recursiveEvents.nextNodeEvent().getType());
        } finally {
            server.close();
        }
    }
}
