package io.tandem.zk.wire;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.tandem.zk.wire.proto.AddWatchRequest;
import io.tandem.zk.wire.proto.AuthPacket;
import io.tandem.zk.wire.proto.CheckVersionRequest;
import io.tandem.zk.wire.proto.CheckWatchesRequest;
import io.tandem.zk.wire.proto.CreateRequest;
import io.tandem.zk.wire.proto.CreateTTLRequest;
import io.tandem.zk.wire.proto.DeleteRequest;
import io.tandem.zk.wire.proto.ExistsRequest;
import io.tandem.zk.wire.proto.GetACLRequest;
import io.tandem.zk.wire.proto.GetAllChildrenNumberRequest;
import io.tandem.zk.wire.proto.GetChildren2Request;
import io.tandem.zk.wire.proto.GetChildrenRequest;
import io.tandem.zk.wire.proto.GetDataRequest;
import io.tandem.zk.wire.proto.GetEphemeralsRequest;
import io.tandem.zk.wire.proto.MultiRequest;
import io.tandem.zk.wire.proto.OpBodies;
import io.tandem.zk.wire.proto.RemoveWatchesRequest;
import io.tandem.zk.wire.proto.SetACLRequest;
import io.tandem.zk.wire.proto.SetDataRequest;
import io.tandem.zk.wire.proto.SetWatches;
import io.tandem.zk.wire.proto.SetWatches2;
import io.tandem.zk.wire.proto.SyncRequest;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.apache.zookeeper.server.ServerCnxnFactory;
import org.apache.zookeeper.server.ZooKeeperServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Sends every client op, encoded with our records, to a real Apache ZooKeeper 3.9.5 server over a raw socket and
 * checks that the server accepts the body {@link OpBodies} names and that its reply body is exactly the record
 * {@link OpBodies} names (decoded with nothing left over), or nothing.
 */
class OpBodiesAgainstApacheServerTest {

    /** Ops a standalone server with default settings cannot answer successfully, so their reply body is not probed. */
    private static final Set<Integer> NOT_PROBED = Set.of(OpCode.CHECK, OpCode.RECONFIG, OpCode.SASL);

    @TempDir
    static Path dataDir;

    private static ZooKeeperServer server;
    private static ServerCnxnFactory factory;

    @BeforeAll
    static void startServer() throws Exception {
        System.setProperty("zookeeper.extendedTypesEnabled", "true");
        server = new ZooKeeperServer(dataDir.resolve("snapshots").toFile(), dataDir.resolve("log").toFile(), 200);
        factory = ServerCnxnFactory.createFactory(new InetSocketAddress("127.0.0.1", 0), 10);
        factory.startup(server);
    }

    @AfterAll
    static void stopServer() {
        factory.shutdown();
        server.shutdown();
    }

    @Test
    void everyClientOpShouldGetExactlyTheResponseBodyOpBodiesNames() throws Exception {
        Set<Integer> probed = new HashSet<>();
        try (RawZooKeeperConnection zk = connection()) {
            byte[] data = "data".getBytes(StandardCharsets.UTF_8);
            probe(zk, probed, OpCode.CREATE, new CreateRequest("/ob", data, Acls.OPEN_ACL_UNSAFE, 0));
            probe(zk, probed, OpCode.CREATE2, new CreateRequest("/ob/c2", data, Acls.OPEN_ACL_UNSAFE, 0));
            probe(zk, probed, OpCode.CREATE_CONTAINER, new CreateRequest("/ob/container", null, Acls.OPEN_ACL_UNSAFE,
                    CreateMode.CONTAINER.flag()));
            probe(zk, probed, OpCode.CREATE_TTL, new CreateTTLRequest("/ob/ttl", null, Acls.OPEN_ACL_UNSAFE,
                    CreateMode.PERSISTENT_WITH_TTL.flag(), 60_000));
            probe(zk, probed, OpCode.CREATE, new CreateRequest("/ob/eph", null, Acls.OPEN_ACL_UNSAFE,
                    CreateMode.EPHEMERAL.flag()));
            probe(zk, probed, OpCode.EXISTS, new ExistsRequest("/ob", true));
            probe(zk, probed, OpCode.GET_DATA, new GetDataRequest("/ob", true));
            probe(zk, probed, OpCode.SET_DATA, new SetDataRequest("/ob", data, -1));
            probe(zk, probed, OpCode.GET_ACL, new GetACLRequest("/ob"));
            probe(zk, probed, OpCode.SET_ACL, new SetACLRequest("/ob", Acls.OPEN_ACL_UNSAFE, -1));
            probe(zk, probed, OpCode.GET_CHILDREN, new GetChildrenRequest("/ob", false));
            probe(zk, probed, OpCode.GET_CHILDREN2, new GetChildren2Request("/ob", false));
            probe(zk, probed, OpCode.SYNC, new SyncRequest("/ob"));
            probe(zk, probed, OpCode.MULTI, new MultiRequest(List.of(MultiRequest.Op.check("/ob", 1),
                    MultiRequest.Op.setData("/ob", data, 1), MultiRequest.Op.delete("/ob/c2", -1))));
            probe(zk, probed, OpCode.MULTI_READ, new MultiRequest(List.of(MultiRequest.Op.getData("/ob"),
                    MultiRequest.Op.getChildren("/ob"))));
            probe(zk, probed, OpCode.GET_DATA, new GetDataRequest("/ob", true));
            probe(zk, probed, OpCode.CHECK_WATCHES, new CheckWatchesRequest("/ob", WatcherType.DATA.code()));
            probe(zk, probed, OpCode.REMOVE_WATCHES, new RemoveWatchesRequest("/ob", WatcherType.DATA.code()));
            probe(zk, probed, OpCode.SET_WATCHES, new SetWatches(0, List.of("/ob"), List.of("/none"), List.of()));
            probe(zk, probed, OpCode.SET_WATCHES2, new SetWatches2(0, List.of(), List.of(), List.of(),
                    List.of("/ob"), List.of()));
            probe(zk, probed, OpCode.ADD_WATCH, new AddWatchRequest("/ob", AddWatchMode.PERSISTENT_RECURSIVE.code()));
            probe(zk, probed, OpCode.GET_EPHEMERALS, new GetEphemeralsRequest("/"));
            probe(zk, probed, OpCode.GET_ALL_CHILDREN_NUMBER, new GetAllChildrenNumberRequest("/ob"));
            probe(zk, probed, OpCode.WHO_AM_I, null);
            probe(zk, probed, OpCode.DELETE, new DeleteRequest("/ob/ttl", -1));
            probe(zk, probed, Xids.PING, OpCode.PING, null);
            probe(zk, probed, Xids.AUTH, OpCode.AUTH, new AuthPacket(0, "digest",
                    "user:secret".getBytes(StandardCharsets.UTF_8)));
            probe(zk, probed, OpCode.CLOSE_SESSION, null);
        }
        for (int opCode = -20; opCode <= 200; opCode++) {
            if (OpBodies.of(opCode) != null && !NOT_PROBED.contains(opCode)) {
                assertTrue(probed.contains(opCode), "op " + OpCode.name(opCode) + " was not checked against Apache");
            }
        }
    }

    @Test
    void errorRepliesShouldCarryNoBodyAndFailedWritesStillTakeAZxid() throws Exception {
        try (RawZooKeeperConnection zk = connection()) {
            RawZooKeeperConnection.Reply created = zk.call(OpCode.CREATE,
                    new CreateRequest("/errors", null, Acls.OPEN_ACL_UNSAFE, 0));
            assertEquals(0, created.header().err());
            RawZooKeeperConnection.Reply exists = zk.call(OpCode.CREATE2,
                    new CreateRequest("/errors", null, Acls.OPEN_ACL_UNSAFE, 0));
            assertEquals(KeeperCode.NODE_EXISTS.code(), exists.header().err());
            assertArrayEquals(new byte[0], exists.body());
            assertEquals(created.header().zxid() + 1, exists.header().zxid());
            RawZooKeeperConnection.Reply missing = zk.call(OpCode.GET_DATA, new GetDataRequest("/nothing", false));
            assertEquals(KeeperCode.NO_NODE.code(), missing.header().err());
            assertArrayEquals(new byte[0], missing.body());
        }
    }

    @Test
    void aCheckOutsideAMultiShouldBeUnimplementedAndCloseTheConnection() throws Exception {
        try (RawZooKeeperConnection zk = connection()) {
            RawZooKeeperConnection.Reply reply = zk.call(OpCode.CHECK, new CheckVersionRequest("/", 0));
            assertEquals(KeeperCode.UNIMPLEMENTED.code(), reply.header().err());
            assertEquals(-1, reply.header().zxid());
            assertTrue(zk.closedByServer());
        }
    }

    private static RawZooKeeperConnection connection() throws Exception {
        RawZooKeeperConnection zk = new RawZooKeeperConnection("127.0.0.1", factory.getLocalPort(), 4000);
        assertTrue(zk.session().timeOut() > 0);
        return zk;
    }

    private static void probe(RawZooKeeperConnection zk, Set<Integer> probed, int opCode, JuteRecord request)
            throws Exception {
        probe(zk, probed, -1, opCode, request);
    }

    private static void probe(RawZooKeeperConnection zk, Set<Integer> probed, int xid, int opCode,
                              JuteRecord request) throws Exception {
        OpBodies.Bodies bodies = OpBodies.of(opCode);
        assertNotNull(bodies, OpCode.name(opCode));
        if (bodies.requestType() == null) {
            assertNull(request, OpCode.name(opCode) + " has no request body");
        } else {
            assertTrue(bodies.requestType().isInstance(request), OpCode.name(opCode) + " request type");
            assertEquals(request, JuteInput.decode(request.toByteArray(), bodies.request()));
        }
        RawZooKeeperConnection.Reply reply = xid == -1 ? zk.call(opCode, request) : zk.call(xid, opCode, request);
        assertEquals(0, reply.header().err(), OpCode.name(opCode) + " failed: " + reply.header());
        if (bodies.responseType() == null) {
            assertArrayEquals(new byte[0], reply.body(), OpCode.name(opCode) + " should have no reply body");
        } else {
            ByteBuf body = Unpooled.wrappedBuffer(reply.body());
            JuteRecord response = bodies.response().read(new JuteInput(body));
            assertTrue(bodies.responseType().isInstance(response));
            assertEquals(0, body.readableBytes(), OpCode.name(opCode) + " reply has bytes beyond " + response);
            assertArrayEquals(reply.body(), response.toByteArray(), OpCode.name(opCode) + " re-encodes identically");
        }
        probed.add(opCode);
    }
}
