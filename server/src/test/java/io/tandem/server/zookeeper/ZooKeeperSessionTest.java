package io.tandem.server.zookeeper;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tandem.server.Tandem;
import io.tandem.server.TandemConfig;
import io.tandem.zk.wire.JuteInput;
import io.tandem.zk.wire.OpCode;
import io.tandem.zk.wire.data.ACL;
import io.tandem.zk.wire.data.Id;
import io.tandem.zk.wire.proto.ConnectResponse;
import io.tandem.zk.wire.proto.CreateRequest;
import io.tandem.zk.wire.proto.CreateResponse;
import io.tandem.zk.wire.proto.ReplyHeader;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.List;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.WatchedEvent;
import org.apache.zookeeper.Watcher.Event.EventType;
import org.apache.zookeeper.Watcher.Event.KeeperState;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.ZooKeeper;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Handshake rules, session expiry, re-attach and close, checked with raw sockets and the official client. */
class ZooKeeperSessionTest {
    @TempDir
    static Path dir;
    static Tandem tandem;
    static ZooKeeper watcher;

    @BeforeAll
    static void start() throws Exception {
        // A short tick makes the minimum session timeout 200 ms, so expiry tests are quick.
        tandem = Tandem.start(TandemConfig.forTests(dir).roles(EnumSet.of(TandemConfig.Role.ZOOKEEPER))
                .set("tickTime", "100"));
        watcher = ZkTestSupport.connect(tandem.zookeeperConnect());
    }

    @AfterAll
    static void stop() throws Exception {
        watcher.close();
        tandem.close();
    }

    @Test
    void shouldClampTimeoutAndEchoReadOnlyOnlyWhenSent() throws Exception {
        try (RawZkClient raw = new RawZkClient(tandem.zookeeperPort())) {
            ConnectResponse response = raw.connect(0, new byte[16], 60_000, 0, null);
            assertEquals(2_000, response.timeOut(), "clamped to 20 ticks");
            assertNull(response.readOnly(), "an old client that sent no readOnly byte gets none back");
            assertTrue(response.sessionId() != 0);
        }
        try (RawZkClient raw = new RawZkClient(tandem.zookeeperPort())) {
            ConnectResponse response = raw.connect(0, new byte[16], 1, 0, Boolean.FALSE);
            assertEquals(200, response.timeOut(), "clamped to 2 ticks");
            assertEquals(Boolean.FALSE, response.readOnly());
        }
    }

    @Test
    void shouldRefuseClientThatHasSeenAFutureZxid() throws Exception {
        try (RawZkClient raw = new RawZkClient(tandem.zookeeperPort())) {
            assertNull(raw.connect(0, new byte[16], 30_000, Long.MAX_VALUE / 2, false));
        }
    }

    @Test
    void shouldExpireSessionAndDeleteItsEphemeralsWithEvents() throws Exception {
        ZkTestSupport.Events events = new ZkTestSupport.Events();
        watcher.create("/sessions", null, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
        try (RawZkClient raw = new RawZkClient(tandem.zookeeperPort())) {
            ConnectResponse session = raw.connect(0, new byte[16], 300, 0, false);
            JuteInput reply = raw.call(1, OpCode.CREATE, new CreateRequest("/sessions/eph", new byte[0],
                    List.of(new ACL(31, new Id("world", "anyone"))), 1));
            assertEquals(0, ReplyHeader.read(reply).err());
            assertEquals("/sessions/eph", CreateResponse.read(reply).path());
            assertEquals(session.sessionId(), watcher.exists("/sessions/eph", events).getEphemeralOwner());
            watcher.getChildren("/sessions", events);
            // No pings from here on: the server must expire the session, delete the node and drop the connection.
            assertTrue(raw.closedByServer(), "the expired session's connection is closed");
            WatchedEvent first = events.nextNodeEvent();
            WatchedEvent second = events.nextNodeEvent();
            assertEquals(EventType.NodeDeleted, first.getType());
            assertEquals("/sessions/eph", first.getPath());
            assertEquals(EventType.NodeChildrenChanged, second.getType());
            assertNull(watcher.exists("/sessions/eph", false));

            try (RawZkClient again = new RawZkClient(tandem.zookeeperPort())) {
                ConnectResponse expired = again.connect(session.sessionId(), session.passwd(), 300, 0, false);
                assertEquals(0, expired.timeOut(), "an expired session is answered with timeout 0");
                assertEquals(0, expired.sessionId());
                assertTrue(again.closedByServer());
            }
        }
    }

    @Test
    void shouldReattachByIdAndPasswordAndRefuseWrongPassword() throws Exception {
        try (ZooKeeper owner = ZkTestSupport.connect(tandem.zookeeperConnect(), 2_000, null)) {
            owner.create("/reattach", null, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.EPHEMERAL);
            byte[] password = owner.getSessionPasswd();
            try (RawZkClient wrong = new RawZkClient(tandem.zookeeperPort())) {
                byte[] bad = password.clone();
                bad[0] ^= 1;
                ConnectResponse refused = wrong.connect(owner.getSessionId(), bad, 2_000, 0, false);
                assertEquals(0, refused.timeOut());
                assertEquals(0, refused.sessionId());
            }
            ZkTestSupport.Events states = new ZkTestSupport.Events();
            try (ZooKeeper second = ZkTestSupport.connect(tandem.zookeeperConnect(), 2_000, null)) {
                ZooKeeper moved = new ZooKeeper(tandem.zookeeperConnect(), 2_000, states, owner.getSessionId(), password);
                try {
                    WatchedEvent connected = states.next();
                    assertEquals(KeeperState.SyncConnected, connected.getState());
                    assertEquals(owner.getSessionId(), moved.getSessionId());
                    assertNotNull(second.exists("/reattach", false));
                    assertNull(moved.getData("/reattach", false, null), "null data stays null, as in Apache");
                } finally {
                    moved.close();
                }
                // closeSession from the re-attached client ends the session: the ephemeral goes at once.
                assertNull(second.exists("/reattach", false));
            }
            assertThrows(KeeperException.class, () -> owner.getData("/reattach", false, null));
        }
    }
}
