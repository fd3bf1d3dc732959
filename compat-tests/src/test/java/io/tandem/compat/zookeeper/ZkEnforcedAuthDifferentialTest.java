package io.tandem.compat.zookeeper;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.tandem.server.Tandem;
import io.tandem.server.TandemConfig;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.apache.jute.BinaryInputArchive;
import org.apache.jute.BinaryOutputArchive;
import org.apache.jute.Record;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.MultiOperationRecord;
import org.apache.zookeeper.Op;
import org.apache.zookeeper.ZooDefs.Ids;
import org.apache.zookeeper.ZooDefs.OpCode;
import org.apache.zookeeper.proto.AddWatchRequest;
import org.apache.zookeeper.proto.AuthPacket;
import org.apache.zookeeper.proto.CheckWatchesRequest;
import org.apache.zookeeper.proto.ConnectRequest;
import org.apache.zookeeper.proto.ConnectResponse;
import org.apache.zookeeper.proto.CreateRequest;
import org.apache.zookeeper.proto.CreateTTLRequest;
import org.apache.zookeeper.proto.DeleteRequest;
import org.apache.zookeeper.proto.ExistsRequest;
import org.apache.zookeeper.proto.GetACLRequest;
import org.apache.zookeeper.proto.GetAllChildrenNumberRequest;
import org.apache.zookeeper.proto.GetChildren2Request;
import org.apache.zookeeper.proto.GetChildrenRequest;
import org.apache.zookeeper.proto.GetDataRequest;
import org.apache.zookeeper.proto.GetEphemeralsRequest;
import org.apache.zookeeper.proto.ReconfigRequest;
import org.apache.zookeeper.proto.RemoveWatchesRequest;
import org.apache.zookeeper.proto.ReplyHeader;
import org.apache.zookeeper.proto.RequestHeader;
import org.apache.zookeeper.proto.SetACLRequest;
import org.apache.zookeeper.proto.SetDataRequest;
import org.apache.zookeeper.proto.SetWatches;
import org.apache.zookeeper.proto.SetWatches2;
import org.apache.zookeeper.proto.SyncRequest;
import org.apache.zookeeper.server.ServerCnxnFactory;
import org.apache.zookeeper.server.ZooKeeperServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The negative suite of issue 11 for an unauthenticated ZooKeeper session: with {@code enforce.auth.enabled=true}
 * and {@code enforce.auth.schemes=digest}, every operation sent before an {@code auth} packet, on a raw socket with
 * Apache's own records, gets the same answer from Apache ZooKeeper 3.9.5 (run in this JVM) and from Tandem side by
 * side: its reply header's error, whether anything follows it, and whether the connection is then closed. After a
 * digest {@code auth} the same operations are served alike, and an unknown scheme fails alike.
 */
class ZkEnforcedAuthDifferentialTest {
    private static final int ANSWER_WAIT_MS = 10_000;
    /** How long a connection must stay silent after an answer to count as kept open. */
    private static final int OPEN_WAIT_MS = 400;
    private static final int NOTIFICATION_XID = -1;

    @TempDir
    static Path dir;
    static ZooKeeperServer apache;
    static ServerCnxnFactory apacheConnections;
    static Tandem tandem;
    static String extendedTypesBefore;

    @BeforeAll
    static void start() throws Exception {
        // TTL nodes on both: Tandem always accepts them, Apache only with this property (kept while its server runs).
        extendedTypesBefore = System.setProperty("zookeeper.extendedTypesEnabled", "true");
        // Apache's AuthenticationHelper reads these when its server is built; they are cleared again at once so no
        // other server of this JVM sees them.
        System.setProperty("zookeeper.enforce.auth.enabled", "true");
        System.setProperty("zookeeper.enforce.auth.schemes", "digest");
        try {
            Path apacheDir = Files.createDirectories(dir.resolve("apache"));
            apache = new ZooKeeperServer(apacheDir.toFile(), apacheDir.toFile(), ZkTarget.TICK_TIME_MS);
        } finally {
            System.clearProperty("zookeeper.enforce.auth.enabled");
            System.clearProperty("zookeeper.enforce.auth.schemes");
        }
        apacheConnections = ServerCnxnFactory.createFactory(new InetSocketAddress("127.0.0.1", 0), 100);
        apacheConnections.startup(apache);
        tandem = Tandem.start(TandemConfig.forTests(dir.resolve("tandem")).roles(EnumSet.of(TandemConfig.Role.ZOOKEEPER))
                .set("tickTime", Integer.toString(ZkTarget.TICK_TIME_MS))
                .set("enforce.auth.enabled", "true").set("enforce.auth.schemes", "digest"));
    }

    @AfterAll
    static void stop() {
        if (tandem != null) tandem.close();
        if (apacheConnections != null) apacheConnections.shutdown();
        if (apache != null) apache.shutdown();
        if (extendedTypesBefore == null) {
            System.clearProperty("zookeeper.extendedTypesEnabled");
        } else {
            System.setProperty("zookeeper.extendedTypesEnabled", extendedTypesBefore);
        }
    }

    /** One request of each operation a client can send, with the xid the Java client gives it. */
    private record Sent(int xid, int opCode, Record body) {
    }

    private static Map<String, Sent> everyOperation() {
        Map<String, Sent> ops = new LinkedHashMap<>();
        ops.put("create", new Sent(1, OpCode.create,
                new CreateRequest("/a", new byte[0], Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT.toFlag())));
        ops.put("create2", new Sent(1, OpCode.create2,
                new CreateRequest("/b", new byte[0], Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT.toFlag())));
        ops.put("createContainer", new Sent(1, OpCode.createContainer,
                new CreateRequest("/c", new byte[0], Ids.OPEN_ACL_UNSAFE, CreateMode.CONTAINER.toFlag())));
        ops.put("createTTL", new Sent(1, OpCode.createTTL,
                new CreateTTLRequest("/d", new byte[0], Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT_WITH_TTL.toFlag(),
                        60_000)));
        ops.put("delete", new Sent(1, OpCode.delete, new DeleteRequest("/missing", -1)));
        ops.put("exists", new Sent(1, OpCode.exists, new ExistsRequest("/", false)));
        ops.put("getData", new Sent(1, OpCode.getData, new GetDataRequest("/", false)));
        ops.put("setData", new Sent(1, OpCode.setData, new SetDataRequest("/", new byte[0], -1)));
        ops.put("getACL", new Sent(1, OpCode.getACL, new GetACLRequest("/")));
        ops.put("setACL", new Sent(1, OpCode.setACL, new SetACLRequest("/missing", Ids.OPEN_ACL_UNSAFE, -1)));
        ops.put("getChildren", new Sent(1, OpCode.getChildren, new GetChildrenRequest("/", false)));
        ops.put("getChildren2", new Sent(1, OpCode.getChildren2, new GetChildren2Request("/", false)));
        ops.put("sync", new Sent(1, OpCode.sync, new SyncRequest("/")));
        ops.put("ping", new Sent(-2, OpCode.ping, null));
        ops.put("multi", new Sent(1, OpCode.multi, new MultiOperationRecord(List.of(Op.check("/", -1)))));
        ops.put("multiRead", new Sent(1, OpCode.multiRead, new MultiOperationRecord(List.of(Op.getData("/")))));
        ops.put("reconfig", new Sent(1, OpCode.reconfig, new ReconfigRequest(null, null, "", -1)));
        ops.put("checkWatches", new Sent(1, OpCode.checkWatches, new CheckWatchesRequest("/", 3)));
        ops.put("removeWatches", new Sent(1, OpCode.removeWatches, new RemoveWatchesRequest("/", 3)));
        ops.put("setWatches", new Sent(-8, OpCode.setWatches, new SetWatches(0, List.of("/"), List.of(), List.of())));
        ops.put("setWatches2", new Sent(-8, OpCode.setWatches2,
                new SetWatches2(0, List.of("/"), List.of(), List.of(), List.of(), List.of())));
        ops.put("getEphemerals", new Sent(1, OpCode.getEphemerals, new GetEphemeralsRequest("/")));
        ops.put("getAllChildrenNumber", new Sent(1, OpCode.getAllChildrenNumber, new GetAllChildrenNumberRequest("/")));
        ops.put("addWatch", new Sent(1, OpCode.addWatch, new AddWatchRequest("/", 1)));
        ops.put("whoAmI", new Sent(1, OpCode.whoAmI, null));
        ops.put("closeSession", new Sent(1, OpCode.closeSession, null));
        return ops;
    }

    /** A raw session speaking jute with Apache's records, so nothing client-side changes what is sent. */
    private static final class RawSession implements AutoCloseable {
        private final Socket socket;
        private final DataInputStream in;
        private final DataOutputStream out;

        RawSession(int port) throws IOException {
            socket = new Socket("127.0.0.1", port);
            socket.setSoTimeout(ANSWER_WAIT_MS);
            in = new DataInputStream(socket.getInputStream());
            out = new DataOutputStream(socket.getOutputStream());
            send(null, new ConnectRequest(0, 0, Zk.SESSION_TIMEOUT_MS, 0, new byte[16], false));
            ConnectResponse connected = new ConnectResponse();
            connected.deserialize(BinaryInputArchive.getArchive(new ByteArrayInputStream(frame())), "connect");
            if (connected.getSessionId() == 0) {
                throw new IOException("the server refused the session");
            }
        }

        void send(RequestHeader header, Record body) throws IOException {
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            BinaryOutputArchive archive = BinaryOutputArchive.getArchive(bytes);
            if (header != null) header.serialize(archive, "header");
            if (body != null) body.serialize(archive, "request");
            out.writeInt(bytes.size());
            bytes.writeTo(out);
            out.flush();
        }

        byte[] frame() throws IOException {
            byte[] frame = new byte[in.readInt()];
            in.readFully(frame);
            return frame;
        }

        /**
         * The answer to one request, skipping watch notifications: its error's name, "+body" when bytes follow the
         * reply header, then "closed" or "open" for what the connection does next.
         */
        String call(Sent sent) throws IOException {
            return call(sent, true);
        }

        String call(Sent sent, boolean waitForClose) throws IOException {
            send(new RequestHeader(sent.xid(), sent.opCode()), sent.body());
            String answer;
            while (true) {
                byte[] frame;
                try {
                    frame = frame();
                } catch (EOFException | SocketException e) {
                    return "no answer, closed";
                }
                ReplyHeader reply = new ReplyHeader();
                reply.deserialize(BinaryInputArchive.getArchive(new ByteArrayInputStream(frame)), "header");
                if (reply.getXid() == NOTIFICATION_XID) continue;
                if (reply.getXid() != sent.xid()) {
                    return "xid " + reply.getXid() + " instead of " + sent.xid();
                }
                answer = KeeperException.Code.get(reply.getErr()).name() + (frame.length > 16 ? " +body" : "");
                break;
            }
            if (!waitForClose) return answer;
            return answer + ", " + (closesWithin(OPEN_WAIT_MS) ? "closed" : "open");
        }

        private boolean closesWithin(int waitMs) throws IOException {
            socket.setSoTimeout(waitMs);
            try {
                while (true) {
                    frame(); // a late notification or close-session answer: keep waiting for the close
                }
            } catch (EOFException | SocketException e) {
                return true;
            } catch (SocketTimeoutException e) {
                return false;
            } finally {
                if (!socket.isClosed()) socket.setSoTimeout(ANSWER_WAIT_MS);
            }
        }

        String auth(String scheme, String credentials, boolean waitForClose) throws IOException {
            return call(new Sent(-4, OpCode.auth,
                    new AuthPacket(0, scheme, credentials.getBytes(StandardCharsets.UTF_8))), waitForClose);
        }

        @Override
        public void close() throws IOException {
            socket.close();
        }
    }

    /** What one session answers to one operation. */
    private interface OnSession {
        String answer(RawSession session, Sent sent) throws IOException;
    }

    /**
     * Every operation on a session of its own, the sessions side by side: an answer that leaves its connection open
     * takes {@value #OPEN_WAIT_MS} ms of silence to tell, which they wait out together instead of one after another.
     * No answer depends on another operation having run (each creates its own node or reads what is always there;
     * the watch notifications the others' writes may cause are skipped as they are when run in turn).
     */
    private static Map<String, String> eachOnItsOwnSession(int port, OnSession onSession) throws Exception {
        Map<String, Sent> ops = everyOperation();
        ExecutorService sessions = Executors.newFixedThreadPool(ops.size());
        try {
            Map<String, Future<String>> pending = new LinkedHashMap<>();
            for (Map.Entry<String, Sent> op : ops.entrySet()) {
                pending.put(op.getKey(), sessions.submit(() -> {
                    try (RawSession session = new RawSession(port)) {
                        return onSession.answer(session, op.getValue());
                    }
                }));
            }
            Map<String, String> answers = new LinkedHashMap<>();
            for (Map.Entry<String, Future<String>> answer : pending.entrySet()) {
                answers.put(answer.getKey(), answer.getValue().get(2L * ANSWER_WAIT_MS, TimeUnit.MILLISECONDS));
            }
            return answers;
        } finally {
            sessions.shutdownNow();
        }
    }

    private static Map<String, String> unauthenticated(int port) throws Exception {
        return eachOnItsOwnSession(port, RawSession::call);
    }

    private static Map<String, String> authenticated(int port) throws Exception {
        return eachOnItsOwnSession(port, (session, sent) -> {
            String auth = session.auth("digest", "alice:alice-password", false);
            return auth.startsWith("OK") ? session.call(sent) : "auth " + auth;
        });
    }

    @Test
    void everyOperationBeforeAuthenticationShouldBeRefusedAndClosedAsApacheDoes() throws Exception {
        Map<String, String> expected = new LinkedHashMap<>();
        for (String op : everyOperation().keySet()) {
            expected.put(op, "SESSIONCLOSEDREQUIRESASLAUTH, closed");
        }
        Map<String, String> fromApache = unauthenticated(apacheConnections.getLocalPort());
        assertEquals(expected, fromApache, "Apache ZooKeeper 3.9.5");
        assertEquals(fromApache, unauthenticated(tandem.zookeeperPort()), "Tandem beside Apache");
    }

    @Test
    void everyOperationAfterADigestAuthShouldBeServedAsApacheServesIt() throws Exception {
        Map<String, String> fromApache = authenticated(apacheConnections.getLocalPort());
        assertEquals(fromApache, authenticated(tandem.zookeeperPort()), "Tandem beside Apache");
    }

    @Test
    void anUnknownSchemeOrAMalformedDigestShouldFailAsApacheFailsThem() throws Exception {
        Map<String, String> fromApache = new LinkedHashMap<>();
        Map<String, String> fromTandem = new LinkedHashMap<>();
        for (String[] auth : List.of(new String[] {"nosuch", "alice:x"}, new String[] {"digest", "no-colon"},
                new String[] {"sasl", "alice"}, new String[] {"ip", "127.0.0.1"})) {
            String name = auth[0] + " " + auth[1];
            try (RawSession session = new RawSession(apacheConnections.getLocalPort())) {
                fromApache.put(name, session.auth(auth[0], auth[1], true));
            }
            try (RawSession session = new RawSession(tandem.zookeeperPort())) {
                fromTandem.put(name, session.auth(auth[0], auth[1], true));
            }
        }
        assertEquals(fromApache, fromTandem, "Tandem beside Apache");
    }
}
